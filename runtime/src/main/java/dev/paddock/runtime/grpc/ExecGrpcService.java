package dev.paddock.runtime.grpc;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.v1.AttachExecRequest;
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
import dev.paddock.runtime.session.ExecListener;
import dev.paddock.runtime.session.ExecSpec;
import dev.paddock.runtime.session.SessionManager;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.sandbox.SandboxResult;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * ExecService. {@code Exec} runs on a worker thread (a jail's life is long next to a gRPC callback)
 * and streams output with flow control: a slow reader slows the program, it never grows the
 * host's memory. Cancelling the call kills the exec's whole process tree.
 */
final class ExecGrpcService extends ExecServiceGrpc.ExecServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(ExecGrpcService.class);

  private final SessionManager sessions;
  private final ExecutorService workers;
  private final java.time.Duration stallTimeout;

  ExecGrpcService(SessionManager sessions, ExecutorService workers, java.time.Duration stallTimeout) {
    this.sessions = sessions;
    this.workers = workers;
    this.stallTimeout = stallTimeout;
  }

  @Override
  public void exec(ExecRequest req, StreamObserver<ExecEvent> responseObserver) {
    ServerCallStreamObserver<ExecEvent> call = (ServerCallStreamObserver<ExecEvent>) responseObserver;
    String requestId = RequestIds.current();
    Principal caller;
    ExecSpec spec;
    try {
      caller = AuthInterceptor.current();
      spec = Protos.fromProto(req);
    } catch (RuntimeException e) {
      call.onError(ErrorMapper.toStatusException(e, requestId));
      return;
    }
    StreamingListener listener = new StreamingListener(call, requestId, stallTimeout.toNanos());
    call.setOnReadyHandler(listener::onReady);
    call.setOnCancelHandler(listener::onCancel);
    workers.execute(Context.current().wrap(() -> {
      MDC.put(RequestIdInterceptor.MDC_KEY, requestId);
      try {
        sessions.exec(caller, req.getSessionId(), spec, listener);
        listener.complete();
      } catch (RuntimeException e) {
        listener.fail(e, requestId);
      } finally {
        MDC.remove(RequestIdInterceptor.MDC_KEY);
      }
    }));
  }

  @Override
  public void startExec(ExecRequest req, StreamObserver<ExecStarted> out) {
    SessionGrpcService.unimplemented(out, "StartExec");
  }

  @Override
  public void writeStdin(WriteStdinRequest req, StreamObserver<WriteStdinResponse> out) {
    SessionGrpcService.unimplemented(out, "WriteStdin");
  }

  @Override
  public void signalExec(SignalExecRequest req, StreamObserver<SignalExecResponse> out) {
    SessionGrpcService.unimplemented(out, "SignalExec");
  }

  @Override
  public void attachExec(AttachExecRequest req, StreamObserver<ExecEvent> out) {
    SessionGrpcService.unimplemented(out, "AttachExec");
  }

  @Override
  public void getExec(GetExecRequest req, StreamObserver<ExecInfo> out) {
    SessionGrpcService.unimplemented(out, "GetExec");
  }

  @Override
  public void listExecs(ListExecsRequest req, StreamObserver<ListExecsResponse> out) {
    SessionGrpcService.unimplemented(out, "ListExecs");
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
   * client that reads nothing for the stall timeout gets its exec killed and its call ended, so it
   * cannot hold a jail and two host threads for the rest of the exec's time limit.
   */
  private static final class StreamingListener implements ExecListener {
    private final ServerCallStreamObserver<ExecEvent> call;
    private final String requestId;
    private final long stallNanos;
    private final Object lock = new Object();
    private boolean cancelled;
    private Runnable cancelExec;

    StreamingListener(ServerCallStreamObserver<ExecEvent> call, String requestId, long stallNanos) {
      this.call = call;
      this.requestId = requestId;
      this.stallNanos = stallNanos;
    }

    void onReady() {
      synchronized (lock) {
        lock.notifyAll();
      }
    }

    void onCancel() {
      Runnable cancel;
      synchronized (lock) {
        cancelled = true;
        cancel = cancelExec;
        lock.notifyAll();
      }
      if (cancel != null) {
        cancel.run();
      }
    }

    @Override
    public void started(String execId, Instant startTime, Runnable cancel) {
      boolean alreadyCancelled;
      synchronized (lock) {
        cancelExec = cancel;
        alreadyCancelled = cancelled;
      }
      if (alreadyCancelled) {
        cancel.run();
        return;
      }
      send(ExecEvent.newBuilder().setStarted(ExecStarted.newBuilder()
          .setExecId(execId).setStartTime(Protos.toProto(startTime))).build());
    }

    @Override
    public void output(Stream stream, byte[] data, long offset) {
      send(ExecEvent.newBuilder().setOutput(OutputChunk.newBuilder()
          .setStream(stream == Stream.STDOUT ? OutputStream.OUTPUT_STREAM_STDOUT : OutputStream.OUTPUT_STREAM_STDERR)
          .setData(ByteString.copyFrom(data))
          .setOffset(offset)).build());
    }

    @Override
    public void finished(SandboxResult result, ExecCounters counters) {
      send(ExecEvent.newBuilder().setResult(Protos.toProto(result, counters)).build());
    }

    /** Caller holds {@code lock}. */
    private void stalled() {
      cancelled = true;
      log.info("request {}: the client read no output for {} ms; killing the exec", requestId, stallNanos / 1_000_000);
      if (cancelExec != null) {
        cancelExec.run();
      }
      call.onError(ErrorMapper.toStatusException(new PaddockException.Unavailable("CLIENT_STALLED",
          "the client read no output for " + stallNanos / 1_000_000 + " ms; the exec was killed", java.time.Duration.ZERO),
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
          call.onError(ErrorMapper.toStatusException(e, requestId));
        }
      }
    }

    private void send(ExecEvent event) {
      synchronized (lock) {
        long waitingSince = 0;
        while (!cancelled && !call.isReady()) {
          if (waitingSince == 0) {
            waitingSince = System.nanoTime();
          } else if (System.nanoTime() - waitingSince > stallNanos) {
            stalled();
            return;
          }
          try {
            lock.wait(100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        if (cancelled) {
          return;
        }
        try {
          call.onNext(event);
        } catch (RuntimeException e) {
          log.debug("client went away while streaming", e);
          cancelled = true;
        }
      }
    }
  }
}
