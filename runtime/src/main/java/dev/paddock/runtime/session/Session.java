package dev.paddock.runtime.session;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.runtime.ipc.SessionScratch;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.WorkspaceLimits;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One task's session: its live jail (workspace included), limits, and its execs, running and
 * recently finished. Owned by exactly one tenant; a session and its jail are never shared or reused.
 */
public final class Session {
  /** Lifecycle state. */
  public enum State { ACTIVE, CLOSED }

  /** Why a session closed. */
  public enum CloseReason { CLIENT, IDLE_TIMEOUT, MAX_LIFETIME, HOST_SHUTDOWN, SANDBOX_FAILED }

  private final String id;
  private final String tenantId;
  private final Jail jail;
  private final int retainedExecs;
  private final WorkspaceLimits workspace;
  private final Instant createTime;
  private final Instant expireTime;
  private final SandboxPolicy policy;
  private final String policyName;
  private final Map<String, String> labels;
  private volatile Map<String, String> env;
  private final dev.paddock.runtime.egress.EgressRules egress;
  private final List<String> headerSecrets;
  /** Execs in start order, running and finished (at most retainedExecs finished ones). */
  private final Map<String, ExecRecord> execs = new LinkedHashMap<>();
  private final SessionScratch scratch = new SessionScratch();
  private int running;

  private Duration idleTimeout;
  private Instant lastActivity;
  private State state = State.ACTIVE;
  private Instant closeTime;
  private CloseReason closeReason;

  Session(String id, String tenantId, Jail jail, WorkspaceLimits workspace, int retainedExecs, Instant createTime, Duration idleTimeout,
      Duration maxLifetime, SandboxPolicy policy, String policyName, Map<String, String> labels,
      Map<String, String> env, dev.paddock.runtime.egress.EgressRules egress, List<String> headerSecrets) {
    this.id = id;
    this.tenantId = tenantId;
    this.jail = jail;
    this.workspace = workspace;
    this.retainedExecs = retainedExecs;
    this.createTime = createTime;
    this.expireTime = createTime.plus(maxLifetime);
    this.idleTimeout = idleTimeout;
    this.lastActivity = createTime;
    this.policy = policy;
    this.policyName = policyName;
    this.labels = Map.copyOf(labels);
    this.env = Map.copyOf(env);
    this.egress = egress;
    this.headerSecrets = List.copyOf(headerSecrets);
  }

  /** The session's own egress lists, narrowing its tenant's. */
  public dev.paddock.runtime.egress.EgressRules egress() {
    return egress;
  }

  /** The secrets the egress proxy adds as headers for this session's requests (where the tenant binds them). */
  public List<String> headerSecrets() {
    return headerSecrets;
  }

  public String id() {
    return id;
  }

  public String tenantId() {
    return tenantId;
  }

  /** The key-value scratch state its tools share (IPC kv_* requests). */
  public SessionScratch scratch() {
    return scratch;
  }

  /** The size and inode limits of the session's workspace. */
  public WorkspaceLimits workspace() {
    return workspace;
  }

  /** The session's live jail. */
  public Jail jail() {
    return jail;
  }

  public Instant createTime() {
    return createTime;
  }

  public Instant expireTime() {
    return expireTime;
  }

  /** The policy every exec of this session runs under (mounts, seccomp, per-exec limits). */
  public SandboxPolicy policy() {
    return policy;
  }

  public String policyName() {
    return policyName;
  }

  public Map<String, String> labels() {
    return labels;
  }

  Map<String, String> env() {
    return env;
  }

  public synchronized Duration idleTimeout() {
    return idleTimeout;
  }

  /** When the session closes if nothing happens, capped by its lifetime. */
  public synchronized Instant idleDeadline() {
    Instant idle = lastActivity.plus(idleTimeout);
    return idle.isBefore(expireTime) ? idle : expireTime;
  }

  public synchronized State state() {
    return state;
  }

  public synchronized Instant closeTime() {
    return closeTime;
  }

  public synchronized CloseReason closeReason() {
    return closeReason;
  }

  /** Number of execs running now (their output not yet drained). */
  public synchronized int runningExecs() {
    return running;
  }

  synchronized void touch(Instant now) {
    if (now.isAfter(lastActivity)) {
      lastActivity = now;
    }
  }

  synchronized void setIdleTimeout(Duration timeout, Instant now) {
    this.idleTimeout = timeout;
    touch(now);
  }

  /** Why the session should close at {@code now}, or null if it should stay open. */
  synchronized CloseReason expiry(Instant now) {
    if (state != State.ACTIVE) {
      return null;
    }
    if (!now.isBefore(expireTime)) {
      return CloseReason.MAX_LIFETIME;
    }
    if (running == 0 && !now.isBefore(lastActivity.plus(idleTimeout))) {
      return CloseReason.IDLE_TIMEOUT;
    }
    return null;
  }

  /**
   * Marks the session closed, so no exec can be admitted any more, and forgets its environment
   * (it may hold secrets and is never needed again); false if it already was closed.
   */
  synchronized boolean markClosed(CloseReason reason, Instant now) {
    if (state == State.CLOSED) {
      return false;
    }
    state = State.CLOSED;
    closeReason = reason;
    closeTime = now;
    env = Map.of();
    return true;
  }

  /** Adds a just-started exec. Caller holds this session's lock. */
  void register(ExecRecord record) {
    execs.put(record.id(), record);
    running++;
  }

  /** An exec has ended and its output drained; forgets the oldest finished ones past retention. */
  synchronized void finished(ExecRecord record) {
    running--;
    int finished = execs.size() - running;
    Iterator<ExecRecord> it = execs.values().iterator();
    while (finished > retainedExecs && it.hasNext()) {
      if (it.next().state() == ExecRecord.State.FINISHED) {
        it.remove();
        finished--;
      }
    }
  }

  /** One exec of this session, running or retained; null when unknown. */
  public synchronized ExecRecord exec(String execId) {
    return execs.get(execId);
  }

  /** The session's execs, oldest first. */
  public synchronized List<ExecRecord> execs() {
    return new ArrayList<>(execs.values());
  }

  /** Kills every running exec of this session. */
  void killAll(String reason) {
    execs().forEach(r -> r.cancel(reason));
  }
}
