package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CloseSessionResponse;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.GetSessionMetricsRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.ListSessionsResponse;
import dev.paddock.ipc.v1.RefreshSessionRequest;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionMetrics;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.ipc.v1.UpdateSessionLabelsRequest;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.SessionManager;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** SessionService: maps proto to domain, calls {@link SessionManager}, maps back. */
final class SessionGrpcService extends SessionServiceGrpc.SessionServiceImplBase {
  private final SessionManager sessions;

  SessionGrpcService(SessionManager sessions) {
    this.sessions = sessions;
  }

  @Override
  public void createSession(CreateSessionRequest req, StreamObserver<Session> out) {
    unary(out, () -> Protos.toProto(sessions.create(AuthInterceptor.current(), Protos.fromProto(req))));
  }

  @Override
  public void getSession(GetSessionRequest req, StreamObserver<Session> out) {
    unary(out, () -> Protos.toProto(sessions.get(AuthInterceptor.current(), req.getSessionId())));
  }

  @Override
  public void listSessions(ListSessionsRequest req, StreamObserver<ListSessionsResponse> out) {
    unary(out, () -> {
      SessionManager.Page page = sessions.list(AuthInterceptor.current(),
          (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(req.getPageSize())),
          req.getPageToken(), req.getLabelSelectorMap());
      ListSessionsResponse.Builder b = ListSessionsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.sessions().forEach(s -> b.addSessions(Protos.toProto(s)));
      return b.build();
    });
  }

  @Override
  public void closeSession(CloseSessionRequest req, StreamObserver<CloseSessionResponse> out) {
    unary(out, () -> {
      sessions.close(AuthInterceptor.current(), req.getSessionId());
      return CloseSessionResponse.getDefaultInstance();
    });
  }

  @Override
  public void refreshSession(RefreshSessionRequest req, StreamObserver<Session> out) {
    unary(out, () -> Protos.toProto(sessions.refresh(AuthInterceptor.current(), req.getSessionId(),
        req.hasIdleTimeout() ? Protos.duration("idle_timeout", req.getIdleTimeout()) : null)));
  }

  @Override
  public void updateSessionLabels(UpdateSessionLabelsRequest req, StreamObserver<Session> out) {
    unimplemented(out, "UpdateSessionLabels");
  }

  @Override
  public void getSessionMetrics(GetSessionMetricsRequest req, StreamObserver<SessionMetrics> out) {
    unimplemented(out, "GetSessionMetrics");
  }

  /** Answers a designed-but-unbuilt RPC: UNIMPLEMENTED with ErrorInfo NOT_IMPLEMENTED naming it. */
  static <T> void unimplemented(StreamObserver<T> out, String method) {
    out.onError(ErrorMapper.toStatusException(new PaddockException.Unimplemented(method), RequestIds.current()));
  }

  /** Runs a unary call, sending its value or its typed error. */
  static <T> void unary(StreamObserver<T> out, Supplier<T> call) {
    T value;
    try {
      value = call.get();
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toStatusException(e, RequestIds.current()));
      return;
    }
    out.onNext(value);
    out.onCompleted();
  }
}
