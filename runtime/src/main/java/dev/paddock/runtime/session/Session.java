package dev.paddock.runtime.session;

import dev.paddock.policy.SandboxPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One task's session: a workspace, limits, and the execs running in it. Owned by exactly one
 * tenant; a session is never shared or reused.
 */
public final class Session {
  /** Lifecycle state. */
  public enum State { ACTIVE, CLOSED }

  /** Why a session closed. */
  public enum CloseReason { CLIENT, IDLE_TIMEOUT, MAX_LIFETIME, HOST_SHUTDOWN }

  private final String id;
  private final String tenantId;
  private final Path workspace;
  private final Instant createTime;
  private final Instant expireTime;
  private final SandboxPolicy policy;
  private final String policyName;
  private final Map<String, String> labels;
  private volatile Map<String, String> env;
  private final Map<String, ExecHandle> running = new ConcurrentHashMap<>();

  private volatile boolean cleanedUp;
  private Duration idleTimeout;
  private Instant lastActivity;
  private State state = State.ACTIVE;
  private Instant closeTime;
  private CloseReason closeReason;

  Session(String id, String tenantId, Path workspace, Instant createTime, Duration idleTimeout,
      Duration maxLifetime, SandboxPolicy policy, String policyName, Map<String, String> labels,
      Map<String, String> env) {
    this.id = id;
    this.tenantId = tenantId;
    this.workspace = workspace;
    this.createTime = createTime;
    this.expireTime = createTime.plus(maxLifetime);
    this.idleTimeout = idleTimeout;
    this.lastActivity = createTime;
    this.policy = policy;
    this.policyName = policyName;
    this.labels = Map.copyOf(labels);
    this.env = Map.copyOf(env);
  }

  public String id() {
    return id;
  }

  public String tenantId() {
    return tenantId;
  }

  Path workspace() {
    return workspace;
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

  /** True once a closed session's workspace and cgroups are gone. */
  public boolean cleanedUp() {
    return cleanedUp;
  }

  void markCleanedUp() {
    cleanedUp = true;
  }

  /** Number of execs running now. */
  public int runningExecs() {
    return running.size();
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
    if (running.isEmpty() && !now.isBefore(lastActivity.plus(idleTimeout))) {
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

  /** Admits an exec; null when the session is closed (then nothing may start in it). */
  synchronized ExecHandle admit(String execId) {
    if (state != State.ACTIVE) {
      return null;
    }
    ExecHandle handle = new ExecHandle();
    running.put(execId, handle);
    return handle;
  }

  void finished(String execId) {
    running.remove(execId);
  }

  /** Kills every exec of this session, including those whose jail is still starting. */
  void killAll(String reason) {
    running.values().forEach(h -> h.cancel(reason));
  }
}
