package dev.paddock.runtime.grpc;

import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs at most one line per interval and counts the rest, so a caller that floods the host with
 * refused calls (20,000 keyless calls in 19 s were seen) cannot flood its log too. The first line
 * after a quiet spell says how many were left out.
 */
final class RateLimitedLog {
  private final Logger log;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private long nextAllowed;
  private long suppressed;
  private boolean started;

  RateLimitedLog(Logger log, long intervalNanos, LongSupplier nanoTime) {
    this.log = log;
    this.intervalNanos = intervalNanos;
    this.nanoTime = nanoTime;
  }

  /** Logs {@code format} at INFO unless a line was logged within the interval. */
  void info(String format, Object... args) {
    long skipped;
    synchronized (this) {
      long now = nanoTime.getAsLong();
      if (started && now - nextAllowed < 0) {
        suppressed++;
        return;
      }
      started = true;
      nextAllowed = now + intervalNanos;
      skipped = suppressed;
      suppressed = 0;
    }
    if (skipped > 0) {
      log.info("({} similar lines left out)", skipped);
    }
    log.info(format, args);
  }

  /** Lines left out since the last one logged. */
  synchronized long suppressed() {
    return suppressed;
  }
}
