package dev.paddock.runtime.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.audit.AuditContext;
import dev.paddock.runtime.audit.AuditTrail;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.protobuf.StatusProto;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the audit record of every call that changes state, and of every refused call, before the
 * caller hears how it went: a unary call's response and every call's final status are held until
 * the record is durable. When it cannot be written, a call that succeeded is answered UNAVAILABLE /
 * AUDIT_WRITE_FAILED instead, and while the log is not writing, calls that would change state are
 * refused before they run.
 *
 * <p>Exec starts and ends are recorded by the exec machinery itself ({@link AuditTrail} as the
 * session layer's {@code ExecAudit}), once per exec whichever call started it.
 */
final class AuditInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(AuditInterceptor.class);

  /** Every call that changes state (or reads a tenant's files), and what its record says. */
  static final Map<String, AuditAction> RECORDED = Map.ofEntries(
      Map.entry(SessionServiceGrpc.getCreateSessionMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_SESSION_CREATED),
      Map.entry(SessionServiceGrpc.getCloseSessionMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_SESSION_CLOSED),
      Map.entry(SessionServiceGrpc.getRefreshSessionMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_SESSION_UPDATED),
      Map.entry(SessionServiceGrpc.getUpdateSessionLabelsMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_SESSION_UPDATED),
      Map.entry(ExecServiceGrpc.getSignalExecMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_EXEC_SIGNALED),
      Map.entry(ExecServiceGrpc.getWriteStdinMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_EXEC_STDIN_WRITTEN),
      Map.entry(FileServiceGrpc.getUploadFileMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_WRITTEN),
      Map.entry(FileServiceGrpc.getRemoveFileMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_WRITTEN),
      Map.entry(FileServiceGrpc.getMakeDirectoryMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_WRITTEN),
      Map.entry(FileServiceGrpc.getRenameFileMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_WRITTEN),
      Map.entry(FileServiceGrpc.getChangeFileModeMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_WRITTEN),
      Map.entry(FileServiceGrpc.getDownloadFileMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_READ),
      Map.entry(ExecServiceGrpc.getGetArtifactMethod().getFullMethodName(), AuditAction.AUDIT_ACTION_FILE_READ),
      Map.entry(dev.paddock.ipc.v1.SecretServiceGrpc.getPutSecretMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_SECRET_WRITTEN),
      Map.entry(dev.paddock.ipc.v1.SecretServiceGrpc.getDeleteSecretMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_SECRET_DELETED),
      Map.entry(dev.paddock.ipc.v1.SecretServiceGrpc.getRotateSecretKeyMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_SECRET_KEY_ROTATED),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getCreateBrowserMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_CREATED),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getCloseBrowserMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_CLOSED),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getNavigateMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_ACTION),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getScreenshotMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_ACTION),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getGetContentMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_ACTION),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getEvaluateMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_ACTION),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getClickMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_ACTION),
      Map.entry(dev.paddock.ipc.v1.BrowserServiceGrpc.getTypeMethod().getFullMethodName(),
          AuditAction.AUDIT_ACTION_BROWSER_ACTION));

  /**
   * Request fields never digested, though text: what is typed into a page may be a password, and a
   * digest of it would let anyone reading the log test guesses.
   */
  private static final Set<String> NEVER_DIGESTED = Set.of("paddock.v1.TypeRequest.text");

  /** Calls that start execs: recorded by the exec machinery, but refused here while the log is down. */
  static final Set<String> EXEC_STARTS = Set.of(ExecServiceGrpc.getExecMethod().getFullMethodName(),
      ExecServiceGrpc.getStartExecMethod().getFullMethodName(), ExecServiceGrpc.getExecPtyMethod().getFullMethodName());

  private static final Set<Status.Code> DENIED = EnumSet.of(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED,
      Status.Code.RESOURCE_EXHAUSTED);

  private final AuditTrail trail;
  private final Executor replies;

  AuditInterceptor(AuditTrail trail, Executor replies) {
    this.trail = trail;
    this.replies = replies;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    AuditAction action = RECORDED.get(method);
    if ((action != null || EXEC_STARTS.contains(method)) && !trail.log().writing()) {
      return ErrorMapper.closeWith(call, AuditTrail.writeFailed());
    }
    boolean holdResponse = action != null && call.getMethodDescriptor().getType().serverSendsOneMessage();
    RecordingCall<Q, R> recording = new RecordingCall<>(call, action, holdResponse);
    ServerCall.Listener<Q> listener = next.startCall(recording, headers);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        recording.request(message);
        super.onMessage(message);
      }
    };
  }

  private final class RecordingCall<Q, R> extends SimpleForwardingServerCall<Q, R> {
    private final AuditAction action;
    private final boolean holdResponse;
    private final String requestId = RequestIds.current();
    private final String clientRequestId = AuditContext.CLIENT_REQUEST_ID.get();
    private volatile Message firstRequest;
    private R heldResponse;

    RecordingCall(ServerCall<Q, R> call, AuditAction action, boolean holdResponse) {
      super(call);
      this.action = action;
      this.holdResponse = holdResponse;
    }

    void request(Q message) {
      if (firstRequest == null && message instanceof Message m) {
        firstRequest = m;
      }
    }

    @Override
    public void sendMessage(R message) {
      if (holdResponse) {
        heldResponse = message; // a unary call's one response: sent once its record is durable
        return;
      }
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      boolean denied = DENIED.contains(status.getCode());
      if (action == null && !denied) {
        super.close(status, trailers);
        return;
      }
      // A refusal is recorded as what it was (the method is an attribute); anything else as the call's action.
      AuditRecord.Builder record = AuditTrail.forCall(!denied ? action
          : status.getCode() == Status.Code.RESOURCE_EXHAUSTED ? AuditAction.AUDIT_ACTION_QUOTA_EXCEEDED
          : AuditAction.AUDIT_ACTION_AUTH_FAILED)
          .setRequestId(requestId).setClientRequestId(clientRequestId == null ? "" : clientRequestId)
          .setOutcome(outcome(status, trailers))
          .putAttributes("method", getMethodDescriptor().getBareMethodName());
      describeTarget(record, firstRequest, heldResponse instanceof Message m ? m : null);
      // The outer interceptors (the denial counter) read the caller from the context of close().
      io.grpc.Context context = io.grpc.Context.current();
      java.util.concurrent.CompletableFuture<AuditRecord> written = trail.append(record);
      java.util.function.BiConsumer<AuditRecord, Throwable> reply = (ignored, failure) -> context.run(() -> {
        if (failure == null) {
          if (heldResponse != null) {
            super.sendMessage(heldResponse);
          }
          super.close(status, trailers);
        } else if (denied || !status.isOk()) {
          log.error("audit log: the record of a refused call could not be written", failure);
          super.close(status, trailers);
        } else {
          StatusException refused = ErrorMapper.toStatusException(AuditTrail.writeFailed(), requestId);
          super.close(refused.getStatus(), refused.getTrailers() == null ? new Metadata() : refused.getTrailers());
        }
      });
      if (written.isDone()) {
        written.whenComplete(reply); // this thread wrote the record itself (the log was idle): no hand-off
      } else {
        written.whenCompleteAsync(reply, replies); // never on the log's writer thread
      }
    }
  }

  /** "OK", or the ErrorInfo reason of the status, or its code when it has none. */
  static String outcome(Status status, Metadata trailers) {
    if (status.isOk()) {
      return "OK";
    }
    com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(status, trailers);
    for (com.google.protobuf.Any any : details.getDetailsList()) {
      if (any.is(ErrorInfo.class)) {
        try {
          return any.unpack(ErrorInfo.class).getReason();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          break;
        }
      }
    }
    return status.getCode().name();
  }

  /**
   * Target and argument digest from the request (and, for CreateSession, the new session's id from
   * the response): the session, exec or path the call was about; the SHA-256 of the request with
   * every bytes field cleared, so file contents and stdin never reach the digest's input.
   */
  static void describeTarget(AuditRecord.Builder record, Message request, Message response) {
    String session = field(request, "session_id");
    String exec = field(request, "exec_id");
    String path = field(request, "path").isEmpty() ? field(request, "from_path") : field(request, "path");
    if (session.isEmpty() && response != null) {
      session = field(response, "session_id");
      if (session.isEmpty()) {
        session = field(response, "id");
      }
    }
    String target = !exec.isEmpty() ? exec : path.isEmpty() ? session : session + ":" + path;
    if (target.isEmpty()) {
      target = field(request, "name"); // a secret's name
    }
    record.setTarget(target);
    String browser = field(request, "browser_id");
    if (!browser.isEmpty()) {
      record.putAttributes("browserId", browser);
    }
    String secret = field(request, "secret"); // a secret put into a browser's field: its name, never its value
    if (!secret.isEmpty()) {
      record.putAttributes("secret", secret);
    }
    if (request != null) {
      Message.Builder stripped = request.toBuilder();
      // Fields this host does not know are never digested either: a newer client's field could hold
      // file contents or a secret, whose digest would let anyone reading the log test guesses.
      stripped.setUnknownFields(com.google.protobuf.UnknownFieldSet.getDefaultInstance());
      for (FieldDescriptor f : request.getDescriptorForType().getFields()) {
        if (f.getType() == FieldDescriptor.Type.BYTES || f.getType() == FieldDescriptor.Type.MESSAGE && f.getName().equals("chunk")
            || NEVER_DIGESTED.contains(f.getFullName())) {
          stripped.clearField(f);
        }
      }
      record.setArgumentsSha256(ByteString.copyFrom(sha256(stripped.build().toByteArray())));
    }
  }

  private static String field(Message message, String name) {
    if (message == null) {
      return "";
    }
    FieldDescriptor header = message.getDescriptorForType().findFieldByName("header");
    if (header != null && header.getType() == FieldDescriptor.Type.MESSAGE && message.hasField(header)) {
      return field((Message) message.getField(header), name); // UploadFile's first message
    }
    FieldDescriptor f = message.getDescriptorForType().findFieldByName(name);
    if (f == null || f.isRepeated() || f.getType() != FieldDescriptor.Type.STRING) {
      return "";
    }
    return (String) message.getField(f);
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
