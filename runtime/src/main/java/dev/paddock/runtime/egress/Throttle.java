package dev.paddock.runtime.egress;

/**
 * A token bucket of bytes per second shared by a tenant's connections: each relay step takes what
 * it moved and, when the bucket is in debt, waits until it is not. Holds at most one second of
 * burst. A rate of 0 never waits.
 */
final class Throttle {
  private final long bytesPerSecond;
  private double tokens;
  private long last = System.nanoTime();

  Throttle(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
    this.tokens = bytesPerSecond;
  }

  /** Takes {@code bytes}; sleeps while the bucket is in debt. */
  void take(long bytes) throws InterruptedException {
    if (bytesPerSecond <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = System.nanoTime();
      tokens = Math.min(bytesPerSecond, tokens + (now - last) * (bytesPerSecond / 1e9));
      last = now;
      tokens -= bytes;
      waitNanos = tokens >= 0 ? 0 : (long) (-tokens / bytesPerSecond * 1e9);
    }
    if (waitNanos > 0) {
      Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
    }
  }
}
