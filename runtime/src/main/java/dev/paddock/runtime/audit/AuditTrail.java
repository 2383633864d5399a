package dev.paddock.runtime.audit;

import com.google.protobuf.Duration;
import dev.paddock.audit.log.AuditLog;
import dev.paddock.audit.log.AuditLogException;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteSigner;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.ipc.v1.ResourceUsage;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.ExecAudit;
import dev.paddock.runtime.session.ExecRecord;
import dev.paddock.runtime.session.ExecSpec;
import dev.paddock.runtime.session.Session;
import dev.paddock.runtime.tenant.Principal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's audit log and the one way the host writes to it. Records take their tenant, actor
 * and request ids from the call's {@link AuditContext}. Every write that an answer depends on is
 * waited for; one that fails refuses the action with UNAVAILABLE / AUDIT_WRITE_FAILED.
 *
 * <p>Files: the log in {@code <data>/audit/}; its Ed25519 signing key in
 * {@code <data>/audit-signing.key} (0600, made on first start; the key's name is the log's origin,
 * {@code <host name>/paddock-audit}); the public verifier key in {@code <data>/audit-verifier.key}.
 */
public final class AuditTrail implements AutoCloseable, ExecAudit, dev.paddock.runtime.ipc.ToolBroker.Audit,
    dev.paddock.runtime.egress.EgressAudit {
  private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
  /** Longest wait for a record to become durable before the action is refused. */
  static final long WRITE_TIMEOUT_SECONDS = 10;
  /** Where the log's files live, under the data directory. */
  public static final String LOG_DIR = "audit";
  public static final String SIGNING_KEY_FILE = "audit-signing.key";
  public static final String VERIFIER_KEY_FILE = "audit-verifier.key";

  private final AuditLog auditLog;
  /** The request id that started each running exec, for its end's record. */
  private final Map<String, String> startedBy = new java.util.concurrent.ConcurrentHashMap<>();

  private AuditTrail(AuditLog auditLog) {
    this.auditLog = auditLog;
  }

  /**
   * Opens the log of {@code dataDir}, making its key on first start. Fails (the host must not
   * start) when the log on disk is damaged or behind its own signed checkpoint.
   */
  public static AuditTrail open(Path dataDir, Clock clock) throws IOException {
    return open(dataDir, null, clock);
  }

  /** As {@link #open(Path, Clock)}, shipping sealed segments to {@code shipTo} when it is not null. */
  public static AuditTrail open(Path dataDir, Path shipTo, Clock clock) throws IOException {
    return open(dataDir, shipTo, null, clock);
  }

  /**
   * As {@link #open(Path, Path, Clock)}, signing with the key in {@code signingKeyFile} when it is
   * not null: a signed-note private key, readable by its owner only. A log already signed by
   * another key does not open with it (its latest checkpoint no longer verifies).
   */
  public static AuditTrail open(Path dataDir, Path shipTo, Path signingKeyFile, Clock clock) throws IOException {
    NoteSigner signer = signingKeyFile == null ? signingKey(dataDir) : readSigningKey(signingKeyFile);
    Files.writeString(dataDir.resolve(VERIFIER_KEY_FILE), signer.verifierKey() + "\n", StandardCharsets.UTF_8);
    AuditLog.Settings settings = AuditLog.Settings.defaults();
    if (shipTo != null) {
      settings = settings.shippingTo(new dev.paddock.audit.log.DirectorySink(shipTo));
    }
    try {
      return new AuditTrail(AuditLog.open(dataDir.resolve(LOG_DIR), signer, signer.name(), settings, clock));
    } catch (AuditLogException e) {
      throw new IOException("the audit log in " + dataDir.resolve(LOG_DIR) + " cannot be used: " + e.getMessage()
          + " (the host will not run actions it cannot record; see `paddock audit verify`)", e);
    }
  }

  private static NoteSigner signingKey(Path dataDir) throws IOException {
    Path file = dataDir.resolve(SIGNING_KEY_FILE);
    NoteSigner signer;
    if (Files.exists(file)) {
      try {
        signer = NoteSigner.parse(Files.readString(file, StandardCharsets.UTF_8));
      } catch (NoteException e) {
        throw new IOException("the audit signing key " + file + " is unreadable: " + e.getMessage());
      }
    } else {
      signer = NoteSigner.generate(origin(), new SecureRandom());
      writeKey(file, signer);
      log.info("audit log: made a new signing key; its verifier key is in {}", dataDir.resolve(VERIFIER_KEY_FILE));
    }
    return signer;
  }

  /** The operator's signing key; refused when others may read it or it is not a signing key. */
  static NoteSigner readSigningKey(Path file) throws IOException {
    dev.paddock.audit.log.DurableFiles.requireOwnerOnly(file, "the audit signing key");
    try {
      return NoteSigner.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (NoteException e) {
      // The parser's message names what is wrong with the file, never its content.
      throw new IOException("the audit signing key " + file + " is not a signed-note signing key: " + e.getMessage());
    }
  }

  /**
   * Writes a new signing key named {@code name} to {@code file} (created 0600; never over an
   * existing file) and returns it.
   */
  public static NoteSigner newSigningKey(String name, Path file) throws IOException {
    NoteSigner signer;
    try {
      signer = NoteSigner.generate(name, new SecureRandom());
    } catch (IllegalArgumentException e) {
      throw new IOException("\"" + name + "\" cannot name a key: " + e.getMessage());
    }
    writeKey(file, signer);
    return signer;
  }

  /** The signer key in {@code file}, 0600, durably (a key lost to a power cut leaves a log no key opens). */
  private static void writeKey(Path file, NoteSigner signer) throws IOException {
    dev.paddock.audit.log.DurableFiles.createNew(file, (signer.signerKey() + "\n").getBytes(StandardCharsets.UTF_8),
        dev.paddock.audit.log.DurableFiles.OWNER_ONLY);
  }

  /** {@code <host name>/paddock-audit}, with anything a key name may not hold replaced. */
  private static String origin() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "paddock";
    }
    host = host.replaceAll("[^A-Za-z0-9._-]", "-");
    return (host.isEmpty() ? "paddock" : host) + "/paddock-audit";
  }

  public AuditLog log() {
    return auditLog;
  }

  /** A record of {@code action} for the current call: tenant, actor and request ids filled in. */
  public static AuditRecord.Builder forCall(AuditAction action) {
    Principal principal = AuditContext.PRINCIPAL.get();
    return AuditRecord.newBuilder().setAction(action)
        .setTenant(principal == null ? "" : principal.tenantId())
        .setActor(principal == null ? "" : AuditContext.actor(principal))
        .setRequestId(nullToEmpty(AuditContext.REQUEST_ID.get()))
        .setClientRequestId(nullToEmpty(AuditContext.CLIENT_REQUEST_ID.get()));
  }

  /** Queues {@code record}; the future completes when it is durable. */
  public CompletableFuture<AuditRecord> append(AuditRecord.Builder record) {
    io.micrometer.core.instrument.Timer durable = appendTimer;
    if (durable == null) {
      return auditLog.append(record.setPolicyPack(policyPack.get()));
    }
    long t = System.nanoTime();
    pending.incrementAndGet();
    CompletableFuture<AuditRecord> written = auditLog.append(record.setPolicyPack(policyPack.get()));
    written.whenComplete((r, e) -> {
      pending.decrementAndGet();
      durable.record(System.nanoTime() - t, TimeUnit.NANOSECONDS);
    });
    return written;
  }

  private volatile io.micrometer.core.instrument.Timer appendTimer;
  private final java.util.concurrent.atomic.AtomicLong pending = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Registers the log's meters in {@code registry}: {@code paddock.audit.append.duration} (from
   * append to durable), {@code paddock.audit.pending} (appended, not yet durable: the lag) and
   * {@code paddock.audit.records} (the log's size).
   */
  public void metrics(io.micrometer.core.instrument.MeterRegistry registry) {
    io.micrometer.core.instrument.Gauge.builder("paddock.audit.pending", pending, java.util.concurrent.atomic.AtomicLong::get)
        .description("Audit records appended and not yet durable").register(registry);
    io.micrometer.core.instrument.Gauge.builder("paddock.audit.records", auditLog, l -> (double) l.size())
        .description("Records in the audit log").register(registry);
    appendTimer = io.micrometer.core.instrument.Timer.builder("paddock.audit.append.duration")
        .description("Time from appending an audit record to its being durable").publishPercentileHistogram()
        .register(registry);
  }

  private volatile java.util.function.Supplier<String> policyPack = () -> "";

  /** Stamps every record from now on with the label of the policy pack in force, as {@code label} gives it. */
  public void policyPack(java.util.function.Supplier<String> label) {
    this.policyPack = label;
  }

  /** Records a policy pack coming into force, and each policy it brings. */
  public void policyPackLoaded(dev.paddock.runtime.policy.PolicyPack pack, String signedBy,
      Map<String, dev.paddock.policy.SandboxPolicy> policies) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_POLICY_LOADED).setActor("operator")
        .setTarget(pack.label()).setOutcome("OK").putAttributes("version", Long.toString(pack.version()))
        .putAttributes("sha256", pack.sha256()).putAttributes("signedBy", signedBy)
        .putAttributes("tenants", Integer.toString(pack.tenants().size())));
    policiesLoaded(policies);
  }

  /** Records a browser provider's circuit breaker changing state (CLOSED, OPEN, HALF_OPEN). */
  public void browserProviderChanged(String provider, String from, String to) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_BROWSER_ACTION).setActor("host")
        .setTarget("provider:" + provider).setOutcome("OK").putAttributes("breakerFrom", from).putAttributes("breakerTo", to));
  }

  /** Records the host closing a tenant's browser on its own (a lost browser, a used-up budget). */
  public void browserClosedByHost(String tenant, String sessionId, String browserId, String outcome, String why) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_BROWSER_CLOSED).setActor("host").setTenant(tenant)
        .setTarget(sessionId).setOutcome(outcome).putAttributes("browserId", browserId).putAttributes("reason", why));
  }

  /** Records a lost browser replaced by a fresh one under the same id (its pages and cookies gone). */
  public void browserReplaced(String tenant, String sessionId, String browserId, String provider, String why) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_BROWSER_CREATED).setActor("host").setTenant(tenant)
        .setTarget(sessionId).setOutcome("OK").putAttributes("browserId", browserId).putAttributes("provider", provider)
        .putAttributes("reason", "replaced a lost browser: " + (why.length() > 300 ? why.substring(0, 300) : why)));
  }

  /** Records a stock DevTools client attaching to a browser through its endpoint (with the browser's token). */
  public void devToolsAttached(String tenant, String sessionId, String browserId) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_BROWSER_ACTION).setActor("devtools").setTenant(tenant)
        .setTarget(sessionId).setOutcome("OK").putAttributes("browserId", browserId).putAttributes("method", "DevToolsAttach"));
  }

  /**
   * Records a secret about to go into a password field of a browser on {@code origin}; durable
   * before the value leaves the vault (a failure here stops it).
   */
  public void formSecretUsed(String tenant, String sessionId, String browserId, String secret, String origins) {
    appendAndWait(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS).setActor("host")
        .setTenant(tenant).setTarget(secret).setOutcome("OK").putAttributes("session", sessionId)
        .putAttributes("browserId", browserId).putAttributes("origin", origins));
  }

  /** Records a policy pack the host refused (it keeps the last good one). */
  public void policyPackRefused(String file, String reason) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_POLICY_LOADED).setActor("operator").setTarget(file)
        .setOutcome("FAILED_PRECONDITION").putAttributes("reason", reason.length() > 500 ? reason.substring(0, 500) : reason));
  }

  /** Writes {@code record} and waits until it is durable (a span of the call that waits, when it is traced). */
  public AuditRecord appendAndWait(AuditRecord.Builder record) {
    io.opentelemetry.api.trace.Span span = tracing.child("paddock.audit.append");
    try {
      AuditRecord written = append(record).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      span.setAttribute("paddock.audit.sequence", written.getSequence());
      return written;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, "interrupted");
      throw writeFailed();
    } catch (ExecutionException | TimeoutException e) {
      log.error("audit log: a record could not be written", e);
      span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, "write failed");
      throw writeFailed();
    } finally {
      span.end();
    }
  }

  private volatile dev.paddock.runtime.trace.HostTracing tracing = dev.paddock.runtime.trace.HostTracing.OFF;

  /** Where the spans of waiting for a record go. */
  public void tracing(dev.paddock.runtime.trace.HostTracing tracing) {
    this.tracing = tracing;
  }

  /** The error an action gets when its record could not be written. */
  public static PaddockException writeFailed() {
    return new PaddockException.Unavailable(ErrorReason.AUDIT_WRITE_FAILED,
        "the audit record of this action could not be written, so the action is not confirmed",
        java.time.Duration.ofSeconds(1));
  }

  @Override
  public void starting(Session session, String execId, ExecSpec spec) {
    AuditRecord written = appendAndWait(forCall(AuditAction.AUDIT_ACTION_EXEC_STARTED).setTenant(session.tenantId())
        .setTarget(execId).setArgumentsSha256(com.google.protobuf.ByteString.copyFrom(digest(spec)))
        .setPolicyVersion(policyVersion(session)).setOutcome("OK")
        .putAttributes("session", session.id()));
    startedBy.put(execId, written.getRequestId());
  }

  @Override
  public void credentialUsed(Session session, String execId, String secret, String env) {
    append(forCall(AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS).setTenant(session.tenantId()).setTarget(secret)
        .setPolicyVersion(policyVersion(session)).setOutcome("OK").putAttributes("session", session.id())
        .putAttributes("exec", execId).putAttributes("env", env));
  }

  @Override
  public void denied(Session session, String execId, dev.paddock.runtime.egress.ProxyTarget target,
      dev.paddock.runtime.egress.Denial denial) {
    AuditRecord.Builder b = egressRecord(AuditAction.AUDIT_ACTION_EGRESS_DENIED, session, execId, target)
        .setOutcome(denial.reasonName()).putAttributes("detail", denial.detail());
    if (!denial.address().isEmpty()) {
      b.putAttributes("address", denial.address());
    }
    appendAndWait(b); // durable before the tool hears of it
  }

  @Override
  public void connectionClosed(Session session, String execId, dev.paddock.runtime.egress.ProxyTarget target, String address,
      long bytesOut, long bytesIn) {
    append(egressRecord(AuditAction.AUDIT_ACTION_EGRESS_CONNECTION, session, execId, target).setOutcome("OK")
        .putAttributes("address", address).putAttributes("bytesOut", Long.toString(bytesOut))
        .putAttributes("bytesIn", Long.toString(bytesIn)));
  }

  /**
   * Durable before the request goes out, like an exec's secrets before it starts: a use that is
   * not recorded does not happen (the write failing refuses the request).
   */
  @Override
  public void headerSecretUsed(Session session, String execId, String secret, String host, String header) {
    AuditRecord.Builder b = AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS).setActor("host")
        .setTenant(session.tenantId()).setTarget(secret).setPolicyVersion(policyVersion(session)).setOutcome("OK")
        .putAttributes("session", session.id()).putAttributes("host", host).putAttributes("header", header);
    if (!execId.isEmpty()) {
      b.putAttributes("exec", execId);
    }
    appendAndWait(b);
  }

  private AuditRecord.Builder egressRecord(AuditAction action, Session session, String execId,
      dev.paddock.runtime.egress.ProxyTarget target) {
    AuditRecord.Builder b = AuditRecord.newBuilder().setAction(action).setActor("host").setTenant(session.tenantId())
        .setTarget(session.id()).setPolicyVersion(policyVersion(session)).putAttributes("host", target.host())
        .putAttributes("port", Integer.toString(target.port())).putAttributes("protocol", target.protocol());
    if (!execId.isEmpty()) {
      b.putAttributes("exec", execId);
    }
    return b;
  }

  @Override
  public void finished(Session session, ExecRecord record, ExecRecord.Outcome outcome) {
    var result = outcome.result();
    String requestId = startedBy.remove(record.id());
    AuditRecord.Builder b = AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_EXEC_FINISHED)
        .setTenant(session.tenantId()).setActor("host").setTarget(record.id())
        .setRequestId(requestId == null ? "" : requestId).setPolicyVersion(policyVersion(session))
        .setOutcome(result.status().name())
        .setUsage(ResourceUsage.newBuilder().setWallTime(duration(result.usage().wallTime()))
            .setCpuUser(duration(result.usage().cpuUser())).setCpuSystem(duration(result.usage().cpuSystem()))
            .setPeakMemoryBytes(result.usage().peakMemoryBytes()))
        .putAttributes("session", session.id())
        .putAttributes("exitCode", Integer.toString(result.exitCode()))
        .putAttributes("stdoutBytes", Long.toString(outcome.stdoutBytes()))
        .putAttributes("stderrBytes", Long.toString(outcome.stderrBytes()));
    if (result.signal() != 0) {
      b.putAttributes("signal", Integer.toString(result.signal()));
    }
    if (result.violationSyscall() != null && !result.violationSyscall().isEmpty()) {
      b.putAttributes("violationSyscall", result.violationSyscall());
    }
    try {
      append(b).get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The log is now refusing: every later action fails closed. This exec has already run.
      log.error("audit log: the end of exec {} could not be recorded", record.id(), e);
    }
  }

  /**
   * Records a session the host closed by itself (idle timeout, lifetime, shutdown, a failed jail);
   * a client's CloseSession is recorded with its call.
   */
  public void sessionClosed(Session session) {
    policyVersions.remove(session.id());
    Session.CloseReason reason = session.closeReason();
    if (reason == null || reason == Session.CloseReason.CLIENT) {
      return;
    }
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_SESSION_EXPIRED).setTenant(session.tenantId())
        .setActor("host").setTarget(session.id()).setOutcome("OK").putAttributes("closeReason", reason.name()));
  }

  /** Records a change of the operator config that the host refused (it keeps the last good one). */
  public void configRefused(Path file, String problems) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_CONFIG_LOADED).setActor("host")
        .setTarget(file.getFileName().toString()).setOutcome("INVALID_ARGUMENT")
        .putAttributes("problems", Long.toString(problems == null ? 0 : problems.lines().filter(l -> l.contains(": ")).count())));
  }

  /** Records the operator config the host now runs with: at start, and after every reload. */
  public void configLoaded(Path file) {
    String digest;
    try {
      digest = HexFormat.of().formatHex(sha256(Files.readAllBytes(file)));
    } catch (IOException e) {
      digest = "unreadable";
    }
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_CONFIG_LOADED).setActor("host")
        .setTarget(file.getFileName().toString()).setOutcome("OK").putAttributes("sha256", digest));
  }

  /** Records that the host replaced {@code tenant}'s data key (for its age: {@code reason} "age"). */
  public void secretKeyRotated(String tenant, String dataKeyId, int secrets, String reason) {
    append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_SECRET_KEY_ROTATED).setActor("host")
        .setTenant(tenant).setTarget(dataKeyId).setOutcome("OK").putAttributes("dataKeyId", dataKeyId)
        .putAttributes("secrets", Integer.toString(secrets)).putAttributes("reason", reason));
  }

  /** Records, durably, that an operator re-wrapped {@code dataKeys} data keys from master key {@code from} to {@code to}. */
  public void masterKeyRotated(String from, String to, int dataKeys) {
    appendAndWait(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_SECRET_KEY_ROTATED).setActor("operator")
        .setTarget("master").setOutcome("OK").putAttributes("from", from).putAttributes("masterKeyId", to)
        .putAttributes("dataKeys", Integer.toString(dataKeys)).putAttributes("reason", "operator"));
  }

  /**
   * Records each policy a session may name, as the host loaded it: its name and version (the
   * {@code policy_version} of records under it, before the session's own limits are added).
   */
  public void policiesLoaded(Map<String, dev.paddock.policy.SandboxPolicy> policies) {
    new TreeMap<>(policies).forEach((name, policy) -> append(AuditRecord.newBuilder()
        .setAction(AuditAction.AUDIT_ACTION_POLICY_LOADED).setActor("host").setTarget(name)
        .setPolicyVersion(policyVersion(name, policy)).setOutcome("OK")));
  }

  /** Records every key in force when the host starts (change {@code in-force}). */
  public void keysInForce(Map<String, Principal> keys) {
    keysChanged(Map.of(), keys, "in-force");
  }

  /**
   * Records each key that was added, removed (revoked, deleted, or its file unreadable), rotated
   * (same id, another secret) or given other scopes: one record per key, under the key's tenant.
   * {@code before} and {@code after} are {@link dev.paddock.runtime.tenant.TenantDirectory#keysInForce}
   * maps; the secret's hash never leaves this method.
   */
  public void keysChanged(Map<String, Principal> before, Map<String, Principal> after) {
    keysChanged(before, after, "added");
  }

  private void keysChanged(Map<String, Principal> before, Map<String, Principal> after, String addedAs) {
    Map<String, Map.Entry<String, Principal>> was = byIdentity(before);
    Map<String, Map.Entry<String, Principal>> now = byIdentity(after);
    java.util.TreeSet<String> identities = new java.util.TreeSet<>(was.keySet());
    identities.addAll(now.keySet());
    for (String identity : identities) {
      Map.Entry<String, Principal> old = was.get(identity);
      Map.Entry<String, Principal> current = now.get(identity);
      String change;
      if (old == null) {
        change = addedAs;
      } else if (current == null) {
        change = "removed";
      } else if (!old.getKey().equals(current.getKey())) {
        change = "rotated";
      } else if (!old.getValue().scopes().equals(current.getValue().scopes())) {
        change = "scopes-changed";
      } else {
        continue;
      }
      Principal key = (current == null ? old : current).getValue();
      append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_KEY_CHANGED).setActor("host")
          .setTenant(key.tenantId()).setTarget(key.keyId()).setOutcome("OK").putAttributes("change", change)
          .putAttributes("scopes", key.scopes().stream().map(dev.paddock.runtime.tenant.Scope::wireName)
              .sorted().collect(java.util.stream.Collectors.joining(","))));
    }
  }

  /** Keys by tenant and key id, each with what identifies its secret (the stored hash). */
  private static Map<String, Map.Entry<String, Principal>> byIdentity(Map<String, Principal> keys) {
    Map<String, Map.Entry<String, Principal>> out = new TreeMap<>();
    keys.forEach((secretId, p) -> out.put(p.tenantId() + "\u0000" + p.keyId(), Map.entry(secretId, p)));
    return out;
  }

  /** IPC calls whose reply waits for their record: they change what the session holds. */
  private static final java.util.Set<dev.paddock.ipc.agent.v1.Envelope.BodyCase> CHANGES = java.util.EnumSet.of(
      dev.paddock.ipc.agent.v1.Envelope.BodyCase.ARTIFACT, dev.paddock.ipc.agent.v1.Envelope.BodyCase.WRITE_FILE,
      dev.paddock.ipc.agent.v1.Envelope.BodyCase.KV_PUT, dev.paddock.ipc.agent.v1.Envelope.BodyCase.KV_DELETE,
      dev.paddock.ipc.agent.v1.Envelope.BodyCase.BROWSER);

  /**
   * One record per IPC call but pings: target the exec, the operation, the SHA-256 of the request (its
   * contents never), the outcome. A call that changes the session's state is answered once its
   * record is durable; reads and pings are recorded in order without holding their reply, which
   * keeps the round trip in microseconds (they are durable before the exec's end is recorded).
   */
  @Override
  public boolean record(ExecRecord exec, dev.paddock.ipc.agent.v1.Envelope request, dev.paddock.ipc.agent.v1.Envelope reply) {
    if (request.getBodyCase() == dev.paddock.ipc.agent.v1.Envelope.BodyCase.PING) {
      // A ping reads and changes nothing; recording it would only let a tool write records at
      // the IPC frame rate that say nothing.
      return true;
    }
    Session session = exec.session();
    dev.paddock.ipc.agent.v1.Envelope digested = request;
    if (request.getBrowser().hasType()) { // what is typed may be a password: never digested
      digested = request.toBuilder().setBrowser(request.getBrowser().toBuilder().setType(
          request.getBrowser().getType().toBuilder().clearText())).build();
    }
    AuditRecord.Builder b = AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_IPC_CALL)
        .setTenant(session.tenantId()).setActor("exec:" + exec.id()).setTarget(exec.id())
        .setArgumentsSha256(com.google.protobuf.ByteString.copyFrom(sha256(digested.toByteArray())))
        .setPolicyVersion(policyVersion(session))
        .setOutcome(reply.hasError() ? reply.getError().getReason().name() : "OK")
        .putAttributes("operation", lowerCamel(request.getBodyCase().name()))
        .putAttributes("session", session.id());
    if (request.hasBrowser()) {
      b.putAttributes("browserAction", lowerCamel(request.getBrowser().getActionCase().name()))
          .putAttributes("browserId", reply.getBrowserResult().getBrowserId().isEmpty() ? request.getBrowser().getBrowserId()
              : reply.getBrowserResult().getBrowserId());
    }
    CompletableFuture<AuditRecord> written = append(b);
    if (!CHANGES.contains(request.getBodyCase())) {
      return true;
    }
    try {
      written.get(WRITE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException | TimeoutException e) {
      log.error("audit log: an IPC call of exec {} could not be recorded", exec.id(), e);
      return false;
    }
  }

  private static String lowerCamel(String enumName) {
    StringBuilder out = new StringBuilder();
    boolean upper = false;
    for (char c : enumName.toLowerCase(java.util.Locale.ROOT).toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        out.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return out.toString();
  }

  /** The policy's name and the first 64 bits of the SHA-256 of its full definition. */
  /**
   * Each open session's policy version, computed once: the policy written out and hashed cost about
   * a quarter of a millisecond, twice an exec.
   */
  private final Map<String, String> policyVersions = new java.util.concurrent.ConcurrentHashMap<>();

  private String policyVersion(Session session) {
    String known = policyVersions.get(session.id());
    if (known != null) {
      return known;
    }
    String version = policyVersion(session.policyName(), session.policy());
    if (session.closeReason() == null) { // not kept for a closed session: nothing would remove it
      policyVersions.put(session.id(), version);
    }
    return version;
  }

  /**
   * {@code name@sha256:} and the first 8 bytes (hex) of the SHA-256 of the whole policy
   * ({@link dev.paddock.policy.SandboxPolicy#canonicalText}: mounts, seccomp rules, limits, IPC).
   */
  static String policyVersion(String name, dev.paddock.policy.SandboxPolicy policy) {
    return name + "@sha256:" + HexFormat.of().formatHex(sha256(policy.canonicalText().getBytes(StandardCharsets.UTF_8)), 0, 8);
  }

  /**
   * SHA-256 over argv, cwd, the names of the environment variables (sorted) and the secrets asked
   * for (variable and secret name, sorted), each length-prefixed. Never stdin, and never a
   * variable's value: a planner may put a secret there, and a digest of a short secret can be
   * guessed from the log.
   */
  static byte[] digest(ExecSpec spec) {
    StringBuilder canonical = new StringBuilder();
    spec.argv().forEach(a -> canonical.append("argv:").append(a.length()).append(':').append(a).append('\n'));
    canonical.append("cwd:").append(spec.cwd().length()).append(':').append(spec.cwd()).append('\n');
    for (String name : new java.util.TreeSet<>(spec.env().keySet())) {
      canonical.append("env:").append(name.length()).append(':').append(name).append('\n');
    }
    for (Map.Entry<String, String> e : new TreeMap<>(spec.secretEnv()).entrySet()) {
      canonical.append("secret:").append(e.getKey().length()).append(':').append(e.getKey())
          .append(':').append(e.getValue().length()).append(':').append(e.getValue()).append('\n');
    }
    return sha256(canonical.toString().getBytes(StandardCharsets.UTF_8));
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  @Override
  public void close() {
    auditLog.close();
  }
}
