package dev.paddock.client;

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
import java.time.Duration;

/**
 * SessionService: the tenant's sessions. One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class SessionCalls extends ServiceCalls<SessionServiceGrpc.SessionServiceBlockingStub> {
  SessionCalls(Connection connection) {
    this(connection, connection.deadline());
  }

  private SessionCalls(Connection connection, Duration deadline) {
    super(connection, deadline, SessionServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public SessionCalls withDeadline(Duration deadline) {
    return new SessionCalls(connection, deadline);
  }

  /** SessionService.CreateSession. */
  public Session createSession(CreateSessionRequest request) {
    return connection.call(() -> unary().createSession(request));
  }

  /** SessionService.GetSession. */
  public Session getSession(GetSessionRequest request) {
    return connection.call(() -> unary().getSession(request));
  }

  /** SessionService.ListSessions. */
  public ListSessionsResponse listSessions(ListSessionsRequest request) {
    return connection.call(() -> unary().listSessions(request));
  }

  /** SessionService.CloseSession. */
  public CloseSessionResponse closeSession(CloseSessionRequest request) {
    return connection.call(() -> unary().closeSession(request));
  }

  /** SessionService.RefreshSession. */
  public Session refreshSession(RefreshSessionRequest request) {
    return connection.call(() -> unary().refreshSession(request));
  }

  /** SessionService.UpdateSessionLabels. */
  public Session updateSessionLabels(UpdateSessionLabelsRequest request) {
    return connection.call(() -> unary().updateSessionLabels(request));
  }

  /** SessionService.GetSessionMetrics. */
  public SessionMetrics getSessionMetrics(GetSessionMetricsRequest request) {
    return connection.call(() -> unary().getSessionMetrics(request));
  }
}
