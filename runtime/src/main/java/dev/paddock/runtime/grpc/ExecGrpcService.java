package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.ErrorReason;
import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.ArtifactChunk;
import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.GetArtifactRequest;
import dev.paddock.runtime.ipc.ArtifactMeta;
import dev.paddock.runtime.ipc.ArtifactStore;
import java.io.IOException;
import java.io.InputStream;
import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStarted;
import dev.paddock.ipc.v1.GetExecRequest;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.ListExecsResponse;
import dev.paddock.ipc.v1.OutputChunk;
import dev.paddock.ipc.v1.OutputStream;
import dev.paddock.ipc.v1.SignalExecRequest;
import dev.paddock.ipc.v1.SignalExecResponse;
import dev.paddock.ipc.v1.WriteStdinRequest;
import dev.paddock.ipc.v1.WriteStdinResponse;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.ExecFollower;
import dev.paddock.runtime.session.ExecListener;
import dev.paddock.runtime.session.ExecRecord;
import dev.paddock.sandbox.jail.JailCensus;
import dev.paddock.sandbox.linux.Signal;
import java.util.Optional;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.TenantDirectory;
import dev.paddock.runtime.session.ToolEvent;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * ExecService, a thin adapter over {@link SessionManager}. Streaming calls (Exec, AttachExec) run
 * on a worker thread and stream with flow control: a slow reader of an Exec slows the program, it
 * never grows the host's memory. Cancelling an Exec kills the exec's process tree; cancelling an
 * AttachExec only ends that stream.
 */
final class ExecGrpcService extends ExecServiceGrpc.ExecServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(ExecGrpcService.class);
  /** WriteStdin waits at most this long for a pipe the program does not read, without a call deadline. */
  private static final long DEFAULT_STDIN_WAIT_MILLIS = 30_000;

  private final SessionManager sessions;
  private final TenantDirectory tenants;
  private final ArtifactStore artifacts;
  private final ExecutorService workers;
  private final java.time.Duration stallTimeout;

  private final dev.paddock.runtime.trace.HostTracing tracing;

  ExecGrpcService(SessionManager sessions, TenantDirectory tenants, ArtifactStore artifacts, ExecutorService workers,
      java.time.Duration stallTimeout, dev.paddock.runtime.trace.HostTracing tracing) {
    this.tracing = tracing;
    this.sessions = sessions;
    this.tenants = tenants;
    this.artifacts = artifacts;
    this.workers = workers;
    this.stallTimeout = stallTimeout;
  }

  @Override
  public void exec(ExecRequest req, StreamObserver<ExecEvent> responseObserver) {
    ServerCallStreamObserver<ExecEvent> call = (ServerCallStreamObserver<ExecEvent>) responseObserver;
    String requestId = RequestIds.current();
    ExecRecord record;
    // From admission to the exec's end: its admission, audit record and jail spawn are children.
    io.opentelemetry.api.trace.Span span = tracing.child("paddock.exec");
    try (io.opentelemetry.context.Scope ignored = span.makeCurrent()) {
      Principal caller = AuthInterceptor.current();
      record = sessions.exec(caller, req.getSessionId(), Protos.fromProto(req), true);
    } catch (RuntimeException e) {
      span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, e.getClass().getSimpleName());
      span.end();
      call.onError(ErrorMapper.toStatusException(e, requestId));
      return;
    }
    span.setAttribute("paddock.exec_id", record.id());
    record.outcome().whenComplete((outcome, failure) -> {
      if (outcome != null) {
        span.setAttribute("paddock.exec_status", outcome.result().status().name());
      }
      span.end();
    });
    StreamingListener listener = new StreamingListener(call, requestId, stallTimeout.toNanos(),
        () -> record.cancel("the client read no output in time; the exec was killed"));
    call.setOnReadyHandler(listener::onReady);
    call.setOnCancelHandler(() -> {
      listener.onCancel();
      record.cancel("the caller cancelled the exec");
    });
    follow(record, 0, 0, true, listener, requestId);
  }

  @Override
  public void attachExec(AttachExecRequest req, StreamObserver<ExecEvent> responseObserver) {
    ServerCallStreamObserver<ExecEvent> call = (ServerCallStreamObserver<ExecEvent>) responseObserver;
    String requestId = RequestIds.current();
    ExecRecord record;
    try {
      record = sessions.execOf(AuthInterceptor.current(), req.getSessionId(), req.getExecId());
    } catch (RuntimeException e) {
      call.onError(ErrorMapper.toStatusException(e, requestId));
      return;
    }
    // An attached reader that stalls loses its stream, never the exec.
    StreamingListener listener = new StreamingListener(call, requestId, stallTimeout.toNanos(), () -> {});
    call.setOnReadyHandler(listener::onReady);
    call.setOnCancelHandler(listener::onCancel);
    follow(record, req.getStdoutOffset(), req.getStderrOffset(), false, listener, requestId);
  }

  private void follow(ExecRecord record, long outAt, long errAt, boolean primary, StreamingListener listener,
      String requestId) {
    Principal caller = AuthInterceptor.current();
    workers.execute(Context.current().wrap(() -> {
      MDC.put(RequestIdInterceptor.MDC_KEY, requestId);
      try {
        ExecFollower.follow(record, outAt, errAt, primary, listener,
            () -> listener.gone() || revoked(caller, record, primary, listener, requestId));
        if (listener.gone()) {
          return;
        }
        listener.complete();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        listener.fail(new PaddockException.Unavailable(ErrorReason.HOST_SHUTTING_DOWN, "the host is shutting down",
            java.time.Duration.ofSeconds(1)), requestId);
      } catch (RuntimeException e) {
        listener.fail(e, requestId);
      } finally {
        MDC.remove(RequestIdInterceptor.MDC_KEY);
      }
    }));
  }

  /**
   * True (and the stream ended UNAUTHENTICATED) once the key the stream was opened with no longer
   * works: a revoked key's holder stops seeing output, and an exec its Exec call started is killed,
   * as when that call is cancelled.
   */
  private boolean revoked(Principal caller, ExecRecord record, boolean primary, StreamingListener listener,
      String requestId) {
    if (tenants.stillValid(caller)) {
      return false;
    }
    listener.fail(new PaddockException.Unauthenticated("the API key was revoked"), requestId);
    if (primary) {
      record.cancel("the caller's API key was revoked");
    }
    return true;
  }

  @Override
  public void startExec(ExecRequest req, StreamObserver<ExecStarted> out) {
    SessionGrpcService.unary(out, () -> {
      ExecRecord r = sessions.exec(AuthInterceptor.current(), req.getSessionId(), Protos.fromProto(req));
      return ExecStarted.newBuilder().setExecId(r.id()).setStartTime(Protos.toProto(r.startTime())).build();
    });
  }

  @Override
  public void writeStdin(WriteStdinRequest req, StreamObserver<WriteStdinResponse> out) {
    SessionGrpcService.unary(out, () -> {
      if (req.getData().size() > 1024 * 1024) {
        throw PaddockException.InvalidArgument.tooLarge("data", 1048576, "at most 1048576 bytes per call");
      }
      ExecRecord r = sessions.execOf(AuthInterceptor.current(), req.getSessionId(), req.getExecId());
      sessions.active(AuthInterceptor.current(), req.getSessionId());
      io.grpc.Deadline deadline = Context.current().getDeadline();
      long until = System.currentTimeMillis()
          + (deadline == null ? DEFAULT_STDIN_WAIT_MILLIS : Math.max(0, deadline.timeRemaining(java.util.concurrent.TimeUnit.MILLISECONDS)));
      long total = r.writeStdin(req.getData().toByteArray(), req.getClose(), until);
      return WriteStdinResponse.newBuilder().setStdinBytes(total).build();
    });
  }

  @Override
  public void signalExec(SignalExecRequest req, StreamObserver<SignalExecResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Signal signal = switch (req.getSignal()) {
        case SIGNAL_INT -> Signal.SIGINT;
        case SIGNAL_TERM -> Signal.SIGTERM;
        case SIGNAL_KILL -> Signal.SIGKILL;
        case SIGNAL_HUP -> Signal.SIGHUP;
        case SIGNAL_QUIT -> Signal.SIGQUIT;
        case SIGNAL_USR1 -> Signal.SIGUSR1;
        case SIGNAL_USR2 -> Signal.SIGUSR2;
        default -> throw new PaddockException.InvalidArgument("signal", "must name a signal");
      };
      ExecRecord r = sessions.execOf(AuthInterceptor.current(), req.getSessionId(), req.getExecId());
      return SignalExecResponse.newBuilder().setDelivered(r.signal(signal)).build();
    });
  }

  @Override
  public void getExec(GetExecRequest req, StreamObserver<ExecInfo> out) {
    SessionGrpcService.unary(out, () -> {
      Principal caller = AuthInterceptor.current();
      ExecRecord r = sessions.execOf(caller, req.getSessionId(), req.getExecId());
      Optional<JailCensus> census = sessions.census(sessions.get(caller, req.getSessionId()));
      return Protos.toProto(r, census);
    });
  }

  @Override
  public void listExecs(ListExecsRequest req, StreamObserver<ListExecsResponse> out) {
    SessionGrpcService.unary(out, () -> {
      SessionManager.ExecPage page = sessions.listExecs(AuthInterceptor.current(), req.getSessionId(),
          req.getPageSize(), req.getPageToken(), req.getRunningOnly());
      Optional<JailCensus> census = sessions.census(page.session());
      ListExecsResponse.Builder answer = ListExecsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      census.ifPresent(c -> answer.setDetachedProcesses(c.detached()));
      page.execs().forEach(r -> answer.addExecs(Protos.toProto(r, census)));
      return answer.build();
    });
  }

  @Override
  public void getArtifact(GetArtifactRequest req, StreamObserver<ArtifactChunk> responseObserver) {
    ServerCallStreamObserver<ArtifactChunk> call = (ServerCallStreamObserver<ArtifactChunk>) responseObserver;
    String requestId = RequestIds.current();
    ExecRecord record;
    ArtifactMeta meta;
    try {
      record = sessions.execOf(AuthInterceptor.current(), req.getSessionId(), req.getExecId());
      if (req.getName().isEmpty()) {
        throw new PaddockException.InvalidArgument("name", "is required");
      }
      meta = record.artifacts().stream().filter(a -> a.name().equals(req.getName())).findFirst()
          .orElseThrow(() -> new PaddockException.NotFound(ErrorReason.FILE_NOT_FOUND,
              "the exec recorded no artifact of that name", java.util.Map.of("name", req.getName())));
    } catch (RuntimeException e) {
      call.onError(ErrorMapper.toStatusException(e, requestId));
      return;
    }
    Object ready = new Object();
    call.setOnReadyHandler(() -> {
      synchronized (ready) {
        ready.notifyAll();
      }
    });
    workers.execute(Context.current().wrap(() -> {
      try (InputStream in = artifacts.open(record.sessionId(), record.id(), meta.name())) {
        byte[] buf = new byte[64 * 1024];
        long offset = 0;
        boolean first = true;
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0 || first) {
          ArtifactChunk.Builder chunk = ArtifactChunk.newBuilder().setData(ByteString.copyFrom(buf, 0, n)).setOffset(offset);
          if (first) {
            chunk.setArtifact(Protos.toProto(meta, -1, null));
            first = false;
          }
          long waitingSince = System.nanoTime();
          synchronized (ready) {
            while (!call.isReady() && !call.isCancelled()) {
              if (System.nanoTime() - waitingSince > stallTimeout.toNanos()) {
                // A client that reads nothing must not hold a host thread and an open file for ever.
                call.onError(ErrorMapper.toStatusException(new PaddockException.Unavailable(ErrorReason.CLIENT_STALLED,
                    "the client read nothing for " + stallTimeout.toMillis() + " ms; its download was ended",
                    java.time.Duration.ZERO), requestId));
                return;
              }
              ready.wait(100);
            }
          }
          if (call.isCancelled()) {
            return;
          }
          call.onNext(chunk.build());
          offset += n;
        }
        call.onCompleted();
      } catch (IOException e) {
        // The session closed meanwhile (its artifacts went with it), or the host's disk failed.
        call.onError(ErrorMapper.toStatusException(new PaddockException.NotFound(ErrorReason.FILE_NOT_FOUND,
            "the artifact is no longer available", java.util.Map.of("name", meta.name())), requestId));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        call.onError(ErrorMapper.toStatusException(new PaddockException.Unavailable(ErrorReason.HOST_SHUTTING_DOWN,
            "the host is shutting down", java.time.Duration.ofSeconds(1)), requestId));
      } catch (RuntimeException e) {
        call.onError(ErrorMapper.toStatusException(e, requestId));
      }
    }));
  }

  @Override
  public StreamObserver<dev.paddock.ipc.v1.ExecPtyRequest> execPty(StreamObserver<ExecEvent> out) {
    SessionGrpcService.unimplemented(out, "ExecPty");
    return new StreamObserver<>() {
      @Override
      public void onNext(dev.paddock.ipc.v1.ExecPtyRequest value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  /**
   * Sends one exec's events on a server stream, waiting for the transport when it is full. A
   * client that reads nothing for the stall timeout loses its call (and, for the Exec that
   * started it, its exec), so it cannot hold host threads for the rest of the exec's time limit.
   */
  private static final class StreamingListener implements ExecListener {
    private final ServerCallStreamObserver<ExecEvent> call;
    private final String requestId;
    private final long stallNanos;
    private final Runnable onStall;
    private final Object lock = new Object();
    private boolean cancelled;

    StreamingListener(ServerCallStreamObserver<ExecEvent> call, String requestId, long stallNanos, Runnable onStall) {
      this.call = call;
      this.requestId = requestId;
      this.stallNanos = stallNanos;
      this.onStall = onStall;
    }

    void onReady() {
      synchronized (lock) {
        lock.notifyAll();
      }
    }

    void onCancel() {
      synchronized (lock) {
        cancelled = true;
        lock.notifyAll();
      }
    }

    boolean gone() {
      synchronized (lock) {
        return cancelled;
      }
    }

    @Override
    public void started(String execId, Instant startTime) {
      send(ExecEvent.newBuilder().setStarted(ExecStarted.newBuilder()
          .setExecId(execId).setStartTime(Protos.toProto(startTime))).build());
    }

    @Override
    public boolean output(Stream stream, byte[] data, long offset) {
      return send(ExecEvent.newBuilder().setOutput(OutputChunk.newBuilder()
          .setStream(stream == Stream.STDOUT ? OutputStream.OUTPUT_STREAM_STDOUT : OutputStream.OUTPUT_STREAM_STDERR)
          .setData(ByteString.copyFrom(data))
          .setOffset(offset)).build());
    }

    @Override
    public boolean tool(ToolEvent event) {
      return send(Protos.toProto(event));
    }

    @Override
    public void finished(ExecRecord.Outcome outcome) {
      send(ExecEvent.newBuilder().setResult(Protos.toProto(outcome)).build());
    }

    /** Caller holds {@code lock}. */
    private void stalled() {
      cancelled = true;
      log.info("request {}: the client read no output for {} ms; ending its stream", requestId, stallNanos / 1_000_000);
      onStall.run();
      call.onError(ErrorMapper.toStatusException(new PaddockException.Unavailable(ErrorReason.CLIENT_STALLED,
          "the client read no output for " + stallNanos / 1_000_000 + " ms; its stream was ended", java.time.Duration.ZERO),
          requestId));
    }

    void complete() {
      synchronized (lock) {
        if (!cancelled) {
          call.onCompleted();
        }
      }
    }

    void fail(RuntimeException e, String requestId) {
      synchronized (lock) {
        if (!cancelled) {
          cancelled = true;
          call.onError(ErrorMapper.toStatusException(e, requestId));
        }
      }
    }

    private boolean send(ExecEvent event) {
      synchronized (lock) {
        long waitingSince = 0;
        while (!cancelled && !call.isReady()) {
          if (waitingSince == 0) {
            waitingSince = System.nanoTime();
          } else if (System.nanoTime() - waitingSince > stallNanos) {
            stalled();
            return false;
          }
          try {
            lock.wait(100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        }
        if (cancelled) {
          return false;
        }
        try {
          call.onNext(event);
          return true;
        } catch (RuntimeException e) {
          log.debug("client went away while streaming", e);
          cancelled = true;
          return false;
        }
      }
    }
  }
}
