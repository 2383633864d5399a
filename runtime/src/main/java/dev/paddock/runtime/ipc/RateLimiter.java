package dev.paddock.runtime.ipc;

import java.util.function.LongSupplier;

/**
 * A token bucket that may run into debt: {@code perSecond} tokens a second, at most {@code burst}
 * saved up. Every frame a tool sends takes a token, served or not. With tokens left a request is
 * served; in debt it is refused (RATE_LIMITED, cheap); once the debt reaches {@code burst} the
 * channel stops reading until the debt is repaid. So a flood costs the host at most
 * {@code perSecond} frames a second on average, refused ones included, whatever the tool sends.
 * Thread-safe: a tenant's bucket is shared by the pump threads of all its execs.
 */
public final class RateLimiter {
  /** What to do with the next frame. */
  public enum Verdict { SERVE, REFUSE }

  private final double perNano;
  private final double burst;
  private final LongSupplier nanoClock;
  private double tokens;
  private long last;

  /** A full bucket on {@code nanoClock} (System::nanoTime outside tests). */
  public RateLimiter(int perSecond, int burst, LongSupplier nanoClock) {
    this.perNano = perSecond / 1e9;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.tokens = burst;
    this.last = nanoClock.getAsLong();
  }

  /** Takes a token for one frame: SERVE while tokens are left, REFUSE in debt. */
  public synchronized Verdict take() {
    refill();
    tokens -= 1;
    return tokens >= 0 ? Verdict.SERVE : Verdict.REFUSE;
  }

  /** How long until the debt is repaid, nanoseconds; 0 when no more reading should wait. */
  public synchronized long pauseNanos() {
    refill();
    if (tokens > -burst) {
      return 0;
    }
    return (long) Math.ceil(-tokens / perNano);
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    tokens = Math.min(burst, tokens + (now - last) * perNano);
    last = now;
  }
}
