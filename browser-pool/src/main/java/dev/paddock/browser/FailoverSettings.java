package dev.paddock.browser;

import java.time.Duration;

/**
 * How each provider's circuit breaker judges it. Browser volumes are low (a few starts a minute),
 * so the window is time-based and a handful of calls is enough to judge.
 *
 * @param window             how far back calls count. Default 60 s.
 * @param minimumCalls       calls in the window before the breaker may open. Default 5.
 * @param failureRatePercent failed calls, percent, that open it. Default 50.
 * @param slowCall           a start slower than this counts as slow: near the provider's start-up
 *                           time (a cold Chromium is about 0.4 s here). Default 5 s.
 * @param slowCallRatePercent slow calls, percent, that open it. Default 80.
 * @param openFor            how long an open breaker refuses before it lets probes through. Default 10 s.
 * @param halfOpenCalls      probes that decide whether it closes again. Default 2.
 */
public record FailoverSettings(Duration window, int minimumCalls, int failureRatePercent, Duration slowCall,
    int slowCallRatePercent, Duration openFor, int halfOpenCalls) {
  public static final FailoverSettings DEFAULTS = new FailoverSettings(Duration.ofSeconds(60), 5, 50, Duration.ofSeconds(5),
      80, Duration.ofSeconds(10), 2);

  public FailoverSettings {
    if (window.toSeconds() < 1 || minimumCalls < 1 || failureRatePercent < 1 || failureRatePercent > 100
        || slowCallRatePercent < 1 || slowCallRatePercent > 100 || openFor.isNegative() || openFor.isZero() || halfOpenCalls < 1) {
      throw new IllegalArgumentException("invalid failover settings: " + this);
    }
  }
}
