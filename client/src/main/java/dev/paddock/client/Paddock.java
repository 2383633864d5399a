package dev.paddock.client;

import dev.paddock.ipc.v1.AuditCheckpoint;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.GetCheckpointRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.GetTenantUsageRequest;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.ListSessionsResponse;
import dev.paddock.ipc.v1.StreamAuditRecordsRequest;
import dev.paddock.ipc.v1.TenantUsage;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection to one Paddock host, for one API key: sessions, the tenant's usage and its audit
 * log. Thread-safe; make one and share it. {@link #close()} shuts the connection down (and every
 * call still running with it).
 *
 * <pre>{@code
 * try (Paddock paddock = Paddock.builder().target("127.0.0.1:50051").apiKey(key).build();
 *      Session session = paddock.createSession()) {
 *   ExecOutcome run = session.exec("python3", "-c", "print(6 * 7)");
 *   System.out.print(run.stdoutText());   // 42
 * }
 * }</pre>
 *
 * <p>Every failed call throws a {@link PaddockException} subclass named after its gRPC code, with
 * the host's reason and the request id. Unary calls have the builder's deadline (default 30 s);
 * streams (exec output, downloads, the audit log) have none unless the caller gives one. Calls
 * that change nothing (Get, List, Stat, reads) and CloseSession are retried with backoff when the
 * host is UNAVAILABLE; the others never are, so nothing runs twice.
 */
public final class Paddock implements AutoCloseable {
  private final Connection connection;
  private final Calls calls;

  private Paddock(Connection connection) {
    this.connection = connection;
    this.calls = new Calls(connection);
  }

  /** Every call of the API, one method each, on the API's own messages (see {@link Calls}). */
  public Calls calls() {
    return calls;
  }

  /** A builder; its defaults: plaintext to 127.0.0.1:50051, 30 s deadline, 4 attempts for idempotent calls. */
  public static Builder builder() {
    return new Builder();
  }

  /** A new session with the host's defaults. */
  public Session createSession() {
    return createSession(CreateSessionRequest.getDefaultInstance());
  }

  /** A new session as {@code request} asks (limits, policy, egress, labels: see paddock.v1.CreateSessionRequest). */
  public Session createSession(CreateSessionRequest request) {
    return new Session(calls, calls.sessions().createSession(request));
  }

  /** An existing session of the caller's tenant; closing the returned object closes it. */
  public Session session(String sessionId) {
    return new Session(calls, calls.sessions().getSession(GetSessionRequest.newBuilder().setSessionId(sessionId).build()));
  }

  /** The tenant's sessions, every page of them, newest first (closed ones while they are kept). */
  public List<dev.paddock.ipc.v1.Session> listSessions() {
    List<dev.paddock.ipc.v1.Session> all = new ArrayList<>();
    String token = "";
    do {
      String page = token;
      ListSessionsResponse r = calls.sessions().listSessions(ListSessionsRequest.newBuilder().setPageToken(page).build());
      all.addAll(r.getSessionsList());
      token = r.getNextPageToken().equals(page) ? "" : r.getNextPageToken();
    } while (!token.isEmpty());
    return all;
  }

  /** The caller's tenant's budgets and what it uses of them. */
  public TenantUsage usage() {
    return calls.tenants().getTenantUsage(GetTenantUsageRequest.getDefaultInstance());
  }

  /**
   * The tenant's audit records from sequence {@code fromSequence} on (0 = the oldest kept); with
   * {@code follow}, the stream stays open for new ones until closed. Needs a key with the
   * {@code audit:read} scope.
   */
  public Stream<AuditRecord> auditRecords(long fromSequence, boolean follow) {
    return calls.audit().streamAuditRecords(
        StreamAuditRecordsRequest.newBuilder().setFromSequence(fromSequence).setFollow(follow).build());
  }

  /** The audit log's newest signed checkpoint (a signed note an auditor verifies with standard tools). */
  public AuditCheckpoint auditCheckpoint() {
    return calls.audit().getCheckpoint(GetCheckpointRequest.getDefaultInstance());
  }

  /**
   * The connection itself, for calls this client has no method for: stubs made on it carry the
   * key, and their errors can be made typed with {@link #typed}.
   */
  public ManagedChannel channel() {
    return connection.channel();
  }

  /** The typed exception for a failed call made on {@link #channel()}. */
  public static PaddockException typed(io.grpc.StatusRuntimeException e) {
    return PaddockException.from(e);
  }

  /** Shuts the connection down: calls still running end with {@link CancelledException} or {@link UnavailableException}. */
  @Override
  public void close() {
    connection.close();
  }

  /** How to reach the host, and as whom. */
  public static final class Builder {
    private String target = "127.0.0.1:50051";
    private String apiKey;
    private java.nio.file.Path tlsCa;
    private java.nio.file.Path clientCert;
    private java.nio.file.Path clientKey;
    private boolean tls;
    private Duration deadline = Duration.ofSeconds(30);
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(5);

    private Builder() {}

    /** The host: {@code host:port}, or any gRPC target ({@code dns:///paddock.internal:443}). Default 127.0.0.1:50051. */
    public Builder target(String target) {
      this.target = java.util.Objects.requireNonNull(target, "target");
      return this;
    }

    /** The API key ({@code pdk_...}), sent as {@code authorization: Bearer} on every call. Required. */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /** TLS, trusting the JVM's roots. Default: plaintext (a host on loopback). */
    public Builder tls() {
      this.tls = true;
      return this;
    }

    /** TLS, trusting the certificates in {@code caPem} (PEM). */
    public Builder tls(java.nio.file.Path caPem) {
      this.tls = true;
      this.tlsCa = caPem;
      return this;
    }

    /** TLS with a client certificate (mutual TLS; the host may map it to a tenant). */
    public Builder clientCertificate(java.nio.file.Path certPem, java.nio.file.Path keyPem) {
      this.tls = true;
      this.clientCert = certPem;
      this.clientKey = keyPem;
      return this;
    }

    /** Deadline of each unary call. Default 30 s. Streams have none unless given per call. */
    public Builder deadline(Duration deadline) {
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("deadline must be positive");
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Attempts of an idempotent call while the host answers UNAVAILABLE (1 = no retry), with
     * exponential backoff from {@code initialBackoff} to {@code maxBackoff}, jittered. Default
     * 4, 200 ms, 5 s.
     */
    public Builder retries(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
      if (maxAttempts < 1 || maxAttempts > 10) {
        throw new IllegalArgumentException("maxAttempts must be 1 to 10");
      }
      this.maxAttempts = maxAttempts;
      this.initialBackoff = initialBackoff;
      this.maxBackoff = maxBackoff;
      return this;
    }

    /**
     * Asks the host's standard gRPC health service ({@code grpc.health.v1.Health/Check}, the
     * whole server) whether it serves, within the deadline, on a connection of its own that is
     * closed again. The host answers SERVING only while it can start jails. Needs no API key and
     * sends none; uses the target, TLS and deadline set here.
     *
     * @throws PaddockException when the host cannot be reached or does not answer in time
     */
    public io.grpc.health.v1.HealthCheckResponse.ServingStatus checkHealth() {
      try (Connection connection = Connection.open(target, null, tls, tlsCa, clientCert, clientKey, deadline,
          Retries.serviceConfig(1, initialBackoff, maxBackoff))) {
        return connection.call(() -> io.grpc.health.v1.HealthGrpc.newBlockingStub(connection.channel())
            .withDeadlineAfter(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
            .check(io.grpc.health.v1.HealthCheckRequest.getDefaultInstance()).getStatus());
      } catch (java.io.IOException e) {
        throw new IllegalStateException("cannot read the TLS files: " + e.getMessage(), e);
      }
    }

    /** Connects (lazily: the first call opens the connection). */
    public Paddock build() {
      if (apiKey == null || apiKey.isBlank()) {
        throw new IllegalStateException("an API key is required (Builder.apiKey)");
      }
      try {
        return new Paddock(Connection.open(target, apiKey.trim(), tls, tlsCa, clientCert, clientKey, deadline,
            Retries.serviceConfig(maxAttempts, initialBackoff, maxBackoff)));
      } catch (java.io.IOException e) {
        throw new IllegalStateException("cannot read the TLS files: " + e.getMessage(), e);
      }
    }
  }
}
