package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.sandbox.SandboxSetupException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Knows whether a working jail exists on this host, failing closed. The launcher is probed (a real
 * {@code /bin/true} in a real jail) at start-up; while the probe fails, sessions are refused with
 * FAILED_PRECONDITION, and the probe is retried at most every few seconds so a repaired host
 * recovers without a restart.
 */
public final class JailGate {
  private static final Logger log = LoggerFactory.getLogger(JailGate.class);
  private static final Duration RETRY = Duration.ofSeconds(5);

  /** A real check that a jail works here: start one, run a program in it, close it. */
  public interface Probe {
    void check() throws SandboxSetupException;
  }

  private final Probe launcher;
  private final Clock clock;
  private static final String UNCHECKED = "the sandbox has not been checked yet";
  private volatile String failure = UNCHECKED;
  private volatile Instant lastProbe = Instant.EPOCH;
  /** The next probe is one a failed start asked for. */
  private boolean suspected;
  /** The last probe was asked for by a failed start, and passed. */
  private boolean passedAfterFailure;

  public JailGate(Probe launcher, Clock clock) {
    this.launcher = launcher;
    this.clock = clock;
  }

  /** Probes now; returns true when the jail works. */
  public synchronized boolean probe() {
    lastProbe = clock.instant();
    boolean afterFailure = suspected;
    suspected = false;
    passedAfterFailure = false;
    try {
      launcher.check();
      passedAfterFailure = afterFailure;
      if (failure != null && !UNCHECKED.equals(failure)) {
        log.info("the sandbox works again");
      }
      failure = null;
      return true;
    } catch (SandboxSetupException e) {
      if (!e.getMessage().equals(failure)) {
        log.error("no working sandbox on this host: {}", e.getMessage(), e.getCause());
      }
      failure = e.getMessage();
      return false;
    }
  }

  /** True when the last probe passed and no exec has failed to set up since. */
  public boolean healthy() {
    return failure == null;
  }

  /**
   * Throws FAILED_PRECONDITION / JAIL_UNAVAILABLE unless the jail works.
   */
  public void require() {
    if (healthy() || probeIfDue()) {
      return;
    }
    String failure = this.failure;
    if (failure == null) {
      return; // another caller's probe passed meanwhile
    }
    throw new PaddockException.FailedPrecondition(ErrorReason.JAIL_UNAVAILABLE, "no working sandbox on this host: " + failure);
  }

  /**
   * Probes when the last probe is old enough (a few seconds: a host that cannot jail logs each
   * probe's failure); callers waiting here share one probe's answer. Returns true when the jail works.
   */
  public synchronized boolean probeIfDue() {
    if (healthy()) {
      return true;
    }
    return clock.instant().isAfter(lastProbe.plus(RETRY)) && probe();
  }

  /**
   * Marks the jail suspect after a real jail failed to start: the next call re-probes at once (one
   * failed start says little about the next), and is refused only if the probe fails too. Not when
   * such a re-probe passed within the last few seconds: then the jail works and these starts fail
   * for a reason of their own, most often a tenant at its budget (a tenant at its process limit
   * cannot start another jail). Otherwise a tenant looping at its limit would make every other
   * tenant's calls wait for a probe each.
   */
  public synchronized void reportSetupFailure(String reason) {
    if (failure == null && passedAfterFailure && clock.instant().isBefore(lastProbe.plus(RETRY))) {
      return;
    }
    failure = reason;
    lastProbe = Instant.EPOCH;
    suspected = true;
  }
}
