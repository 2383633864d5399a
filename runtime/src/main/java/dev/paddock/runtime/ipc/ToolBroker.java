package dev.paddock.runtime.ipc;

import com.google.protobuf.ByteString;
import dev.paddock.ipc.agent.v1.ArtifactReply;
import dev.paddock.ipc.agent.v1.ArtifactRequest;
import dev.paddock.ipc.agent.v1.CallToolRequest;
import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.ipc.agent.v1.FileEntry;
import dev.paddock.ipc.agent.v1.IpcErrorReason;
import dev.paddock.ipc.agent.v1.KvDeleteReply;
import dev.paddock.ipc.agent.v1.KvGetReply;
import dev.paddock.ipc.agent.v1.KvListReply;
import dev.paddock.ipc.agent.v1.KvPutReply;
import dev.paddock.ipc.agent.v1.ListFilesReply;
import dev.paddock.ipc.agent.v1.PingReply;
import dev.paddock.ipc.agent.v1.ProgressReply;
import dev.paddock.ipc.agent.v1.ProgressRequest;
import dev.paddock.ipc.agent.v1.ReadFileReply;
import dev.paddock.ipc.agent.v1.ReadFileRequest;
import dev.paddock.ipc.agent.v1.WriteFileReply;
import dev.paddock.ipc.agent.v1.WriteFileRequest;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.policy.IpcOperation;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.ExecRecord;
import dev.paddock.runtime.session.Session;
import dev.paddock.runtime.session.ToolEvent;
import dev.paddock.runtime.session.WorkspaceService;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.sandbox.fs.FileStat;
import dev.paddock.sandbox.fs.WorkspaceInputStream;
import dev.paddock.sandbox.linux.Fd;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the requests tools send over their IPC channels: each is checked against the session's
 * policy ({@link IpcOperation}) and budgets, then served through the same layers the host API uses
 * (workspace files through {@link WorkspaceService}), and answered with a typed reply or error.
 * Runs on the exec's own pump thread, so a slow request slows only its own exec.
 */
public final class ToolBroker {
  private static final Logger log = LoggerFactory.getLogger(ToolBroker.class);
  /** Longest progress message, bytes of UTF-8. */
  static final int MAX_PROGRESS_BYTES = 4096;
  /** Room kept in a reply frame beside a file's bytes. */
  static final int REPLY_OVERHEAD = 1024;
  /** Most entries in one ListFiles reply. */
  static final int MAX_LIST_ENTRIES = 10_000;
  private static final Pattern TOOL_NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final WorkspaceService workspaces;
  private final ArtifactStore artifacts;
  private final IpcLimits limits;
  private final Clock clock;
  private final java.util.Map<String, RateLimiter> tenantRates = new java.util.concurrent.ConcurrentHashMap<>();

  public ToolBroker(WorkspaceService workspaces, ArtifactStore artifacts, IpcLimits limits, Clock clock) {
    this.workspaces = workspaces;
    this.artifacts = artifacts;
    this.limits = limits;
    this.clock = clock;
  }

  /** The limits every channel of this host gets. */
  public IpcLimits limits() {
    return limits;
  }

  /** A new channel over {@code fd} for an exec of {@code tenantId}, with its own rate and its tenant's. */
  public IpcChannel channel(Fd fd, dev.paddock.sandbox.linux.LinuxSyscalls linux, String tenantId)
      throws dev.paddock.sandbox.linux.NativeException {
    RateLimiter tenant = tenantRates.computeIfAbsent(tenantId, t -> new RateLimiter(limits.tenantRequestsPerSecond(),
        limits.tenantRequestsPerSecond(), System::nanoTime));
    return new IpcChannel(fd, linux, limits, new RateLimiter(limits.requestsPerSecond(), limits.burst(), System::nanoTime),
        tenant);
  }

  /**
   * Where every IPC call is recorded. {@code record} returns false when a record the reply must
   * wait for could not be written: the reply is then an error, the call not confirmed.
   */
  public interface Audit {
    Audit NONE = (exec, request, reply) -> true;

    boolean record(ExecRecord exec, Envelope request, Envelope reply);
  }

  private volatile Audit audit = Audit.NONE;
  private volatile BrowserTools browserTools;

  /** Serves tools' browser actions with {@code browsers}; until then they are NOT_AVAILABLE. */
  public void browsers(dev.paddock.runtime.browser.BrowserManager browsers) {
    this.browserTools = new BrowserTools(browsers, limits.maxFrameBytes());
  }

  /** Records every IPC call with {@code audit}. */
  public void audit(Audit audit) {
    this.audit = audit;
  }

  /**
   * Answers one request of {@code exec}'s tool, and records it (see {@link Audit}). Never throws:
   * failures are error replies.
   */
  public Envelope handle(ExecRecord exec, Envelope request) {
    io.opentelemetry.api.trace.Span span = tracing.childOf(exec.trace(), exec.requestId(),
        "paddock.ipc." + request.getBodyCase().name().toLowerCase(java.util.Locale.ROOT));
    try {
      Envelope reply = answer(exec, request);
      if (reply.hasError()) {
        span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, reply.getError().getReason().name());
      }
      if (!audit.record(exec, request, reply)) {
        span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, "audit write failed");
        return IpcChannel.error(request.getId(), IpcErrorReason.IPC_ERROR_INTERNAL,
            "the audit record of this call could not be written, so it is not confirmed", Map.of());
      }
      return reply;
    } finally {
      span.end();
    }
  }

  private volatile dev.paddock.runtime.trace.HostTracing tracing = dev.paddock.runtime.trace.HostTracing.OFF;

  /** Where the spans of IPC calls go: children of the span of the call that started the exec. */
  public void tracing(dev.paddock.runtime.trace.HostTracing tracing) {
    this.tracing = tracing;
  }

  private Envelope answer(ExecRecord exec, Envelope request) {
    Session session = exec.session();
    try {
      if (session.state() != Session.State.ACTIVE) {
        // The session is closing: its artifacts and scratch state are going; nothing new is made.
        throw new ToolRefusal(IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION, "the session is closing");
      }
      Envelope.Builder reply = Envelope.newBuilder().setId(request.getId());
      switch (request.getBodyCase()) {
        case PING -> reply.setPong(PingReply.getDefaultInstance());
        case PROGRESS -> {
          allowed(session, IpcOperation.PROGRESS);
          reply.setProgressRecorded(progress(exec, request.getProgress()));
        }
        case ARTIFACT -> {
          allowed(session, IpcOperation.ARTIFACTS);
          reply.setArtifactRecorded(artifact(exec, request.getArtifact()));
        }
        case READ_FILE -> {
          allowed(session, IpcOperation.FILES_READ);
          reply.setFileData(readFile(exec, request.getReadFile()));
        }
        case WRITE_FILE -> {
          allowed(session, IpcOperation.FILES_WRITE);
          reply.setFileWritten(writeFile(exec, request.getWriteFile()));
        }
        case LIST_FILES -> {
          allowed(session, IpcOperation.FILES_READ);
          reply.setFileList(listFiles(exec, request.getListFiles().getPath()));
        }
        case KV_GET -> {
          allowed(session, IpcOperation.SCRATCH);
          var value = session.scratch().get(request.getKvGet().getKey());
          reply.setKvValue(KvGetReply.newBuilder().setFound(value.isPresent())
              .setValue(value.map(ByteString::copyFrom).orElse(ByteString.EMPTY)));
        }
        case KV_PUT -> {
          allowed(session, IpcOperation.SCRATCH);
          session.scratch().put(request.getKvPut().getKey(), request.getKvPut().getValue().toByteArray());
          reply.setKvStored(KvPutReply.getDefaultInstance());
        }
        case KV_DELETE -> {
          allowed(session, IpcOperation.SCRATCH);
          reply.setKvDeleted(KvDeleteReply.newBuilder().setExisted(session.scratch().delete(request.getKvDelete().getKey())));
        }
        case KV_LIST -> {
          allowed(session, IpcOperation.SCRATCH);
          reply.setKvKeys(KvListReply.newBuilder().addAllKeys(session.scratch().keys(request.getKvList().getPrefix())));
        }
        case CALL_TOOL -> {
          allowed(session, IpcOperation.TOOLS);
          throw callTool(request.getCallTool());
        }
        case BROWSER -> {
          allowed(session, IpcOperation.BROWSER);
          BrowserTools tools = browserTools;
          if (tools == null) {
            throw new ToolRefusal(IpcErrorReason.IPC_ERROR_NOT_AVAILABLE, "this host serves no browsers");
          }
          reply.setBrowserResult(tools.serve(principal(exec), session.id(), request.getBrowser()));
        }
        default -> throw new ToolRefusal(IpcErrorReason.IPC_ERROR_UNKNOWN_REQUEST, "not a request this host knows");
      }
      return reply.build();
    } catch (ToolRefusal e) {
      return IpcChannel.error(request.getId(), e.reason(), e.getMessage(), e.metadata());
    } catch (PaddockException e) {
      return fromHostError(request.getId(), e);
    } catch (RuntimeException e) {
      log.error("session {} exec {}: an IPC request failed", session.id(), exec.id(), e);
      return IpcChannel.error(request.getId(), IpcErrorReason.IPC_ERROR_INTERNAL, "the host failed to serve the request",
          Map.of());
    }
  }

  private static void allowed(Session session, IpcOperation operation) {
    if (!session.policy().ipcOperations().contains(operation)) {
      String name = operation.name().toLowerCase();
      throw new ToolRefusal(IpcErrorReason.IPC_ERROR_PERMISSION_DENIED,
          "the session's policy does not allow " + name, Map.of("operation", name));
    }
  }

  private ProgressReply progress(ExecRecord exec, ProgressRequest p) {
    if (p.getMessageBytes().size() > MAX_PROGRESS_BYTES) {
      throw ToolRefusal.tooLarge("message", MAX_PROGRESS_BYTES);
    }
    OptionalDouble fraction = OptionalDouble.empty();
    if (p.hasFraction()) {
      double f = p.getFraction();
      if (!(f >= 0 && f <= 1)) {
        throw ToolRefusal.invalid("fraction", "must be between 0 and 1");
      }
      fraction = OptionalDouble.of(f);
    }
    OptionalDouble given = fraction;
    String message = exec.redact(p.getMessage()); // a secret the tool was given does not leave in its progress
    ToolEvent e = record(exec, seq -> new ToolEvent.Progress(message, given, seq, clock.instant()));
    return ProgressReply.newBuilder().setSequence(e.sequence()).build();
  }

  private ArtifactReply artifact(ExecRecord exec, ArtifactRequest a) {
    ArtifactStore.checkName(a.getName());
    if (a.getContentTypeBytes().size() > 255) {
      throw ToolRefusal.tooLarge("content_type", 255);
    }
    if (exec.artifacts().size() >= ArtifactStore.MAX_PER_EXEC) {
      throw ToolRefusal.exhausted("artifactsPerExec", "an exec may record at most " + ArtifactStore.MAX_PER_EXEC + " artifacts");
    }
    ArtifactMeta stored;
    switch (a.getSourceCase()) {
      case DATA -> stored = artifacts.store(exec.session(), exec.id(), a.getName(), a.getContentType(),
          new ByteArrayInputStream(a.getData().toByteArray()), limits.maxFrameBytes());
      case WORKSPACE_PATH -> {
        try (InputStream in = workspaces.openRead(principal(exec), exec.sessionId(), a.getWorkspacePath(), 0, 0)) {
          stored = artifacts.store(exec.session(), exec.id(), a.getName(), a.getContentType(), in,
              ArtifactStore.MAX_ARTIFACT_BYTES);
        } catch (IOException e) {
          throw new ToolRefusal(IpcErrorReason.IPC_ERROR_INTERNAL, "the host could not read the file");
        }
      }
      default -> throw ToolRefusal.invalid("source", "is required: data or workspace_path");
    }
    exec.addArtifact(stored);
    ToolEvent e = record(exec, seq -> new ToolEvent.Artifact(stored, seq, clock.instant()));
    return ArtifactReply.newBuilder().setSequence(e.sequence()).setSizeBytes(stored.sizeBytes())
        .setSha256(stored.sha256()).build();
  }

  private ReadFileReply readFile(ExecRecord exec, ReadFileRequest r) {
    if (r.getOffset() < 0) {
      throw ToolRefusal.invalid("offset", "is past the end of any file (at most 2^63 - 1)");
    }
    int room = limits.maxFrameBytes() - REPLY_OVERHEAD;
    // uint64 on the wire: a length of 2^63 or more arrives negative, and is cut to the room like any other.
    int want = r.getLength() == 0 || Long.compareUnsigned(r.getLength(), room) > 0 ? room : (int) r.getLength();
    try (WorkspaceInputStream in = workspaces.openRead(principal(exec), exec.sessionId(), r.getPath(), r.getOffset(), want)) {
      byte[] data = in.readNBytes(want);
      long size = in.stat().sizeBytes();
      return ReadFileReply.newBuilder().setData(ByteString.copyFrom(data)).setSizeBytes(size)
          .setEof(r.getOffset() + data.length >= size).build();
    } catch (IOException e) {
      throw new ToolRefusal(IpcErrorReason.IPC_ERROR_INTERNAL, "the host could not read the file");
    }
  }

  private WriteFileReply writeFile(ExecRecord exec, WriteFileRequest w) {
    byte[] data = w.getData().toByteArray();
    try (WorkspaceService.PendingUpload upload = workspaces.beginUpload(principal(exec),
        new WorkspaceService.UploadSpec(exec.sessionId(), w.getPath(), w.getMode(), !w.getCreateOnly(), w.getMakeParents(),
            data.length))) {
      upload.write(data, 0, data.length);
      return WriteFileReply.newBuilder().setSizeBytes(upload.commit().sizeBytes()).build();
    }
  }

  private ListFilesReply listFiles(ExecRecord exec, String path) {
    WorkspaceService.FilePage page = workspaces.list(principal(exec), exec.sessionId(), path, false, 1,
        MAX_LIST_ENTRIES, "");
    ListFilesReply.Builder reply = ListFilesReply.newBuilder().setTruncated(!page.nextPageToken().isEmpty());
    long room = limits.maxFrameBytes() - REPLY_OVERHEAD;
    long size = 0;
    for (FileStat f : page.files()) {
      FileEntry entry = FileEntry.newBuilder().setPath(f.path()).setDirectory(f.isDirectory()).setSymlink(f.isSymlink())
          .setSizeBytes(f.isDirectory() ? 0 : f.sizeBytes()).setMode(f.mode()).build();
      size += entry.getSerializedSize() + 8; // the entry's tag and length prefix, generously
      if (size > room) {
        return reply.setTruncated(true).build(); // the listing would not fit in one frame
      }
      reply.addEntries(entry);
    }
    return reply.build();
  }

  private static ToolRefusal callTool(CallToolRequest c) {
    if (!TOOL_NAME.matcher(c.getName()).matches()) {
      return ToolRefusal.invalid("name", "must be 1-128 characters from [A-Za-z0-9._-]");
    }
    return new ToolRefusal(IpcErrorReason.IPC_ERROR_NOT_AVAILABLE,
        "no host-side tool named \"" + c.getName() + "\" is available on this host yet", Map.of("tool", c.getName()));
  }

  /** Records a tool event; the pump thread waits here while the planner's stream is behind. */
  private static ToolEvent record(ExecRecord exec, java.util.function.LongFunction<ToolEvent> make) {
    try {
      return exec.recordEvent(make);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ToolRefusal(IpcErrorReason.IPC_ERROR_INTERNAL, "the host is shutting down");
    }
  }

  /** The tenant, acting through this exec's tool. */
  private static Principal principal(ExecRecord exec) {
    return new Principal(exec.session().tenantId(), "ipc:" + exec.id());
  }

  /** A host-layer error as the tool sees it: the same reason family, the API's field names without "header.". */
  private static Envelope fromHostError(long id, PaddockException e) {
    IpcErrorReason reason;
    if (e instanceof PaddockException.InvalidArgument) {
      reason = e.reason() == ErrorReason.PAYLOAD_TOO_LARGE
          ? IpcErrorReason.IPC_ERROR_PAYLOAD_TOO_LARGE : IpcErrorReason.IPC_ERROR_INVALID_ARGUMENT;
    } else if (e instanceof PaddockException.NotFound) {
      reason = IpcErrorReason.IPC_ERROR_NOT_FOUND;
    } else if (e instanceof PaddockException.AlreadyExists) {
      reason = IpcErrorReason.IPC_ERROR_ALREADY_EXISTS;
    } else if (e instanceof PaddockException.FailedPrecondition) {
      reason = IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION;
    } else if (e instanceof PaddockException.ResourceExhausted) {
      reason = e.reason() == ErrorReason.WORKSPACE_FULL
          ? IpcErrorReason.IPC_ERROR_WORKSPACE_FULL : IpcErrorReason.IPC_ERROR_RESOURCE_EXHAUSTED;
    } else if (e instanceof PaddockException.PermissionDenied) {
      reason = IpcErrorReason.IPC_ERROR_PERMISSION_DENIED;
    } else if (e instanceof PaddockException.DeadlineExceeded) {
      reason = IpcErrorReason.IPC_ERROR_DEADLINE_EXCEEDED;
    } else if (e instanceof PaddockException.Unavailable u) {
      return IpcChannel.error(id, IpcErrorReason.IPC_ERROR_NOT_AVAILABLE, e.getMessage(), u.retryAfter() == null ? Map.of()
          : Map.of("retryAfterMillis", Long.toString(u.retryAfter().toMillis())));
    } else {
      reason = IpcErrorReason.IPC_ERROR_INTERNAL;
    }
    if (reason == IpcErrorReason.IPC_ERROR_INTERNAL) {
      log.error("an IPC request failed in the host", e);
      return IpcChannel.error(id, reason, "the host failed to serve the request", Map.of());
    }
    Map<String, String> metadata = new HashMap<>();
    e.metadata().forEach((k, v) -> metadata.put(k, k.equals("field") ? v.replace("header.", "") : v));
    String message = e.getMessage().replace("header.", "");
    return IpcChannel.error(id, reason, message, metadata);
  }
}
