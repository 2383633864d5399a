package dev.paddock.browser;

import java.time.Duration;
import java.util.List;

/**
 * No provider could give a browser: each one's breaker is open, or it failed, or it is at its
 * quota. The API answers UNAVAILABLE with {@link #retryAfter} as RetryInfo.
 */
public final class BrowserUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;
  private final Duration retryAfter;
  private final List<String> reasons;

  BrowserUnavailableException(Duration retryAfter, List<String> reasons) {
    super("no browser provider can take the request now: " + String.join("; ", reasons));
    this.retryAfter = retryAfter;
    this.reasons = List.copyOf(reasons);
  }

  /** When trying again may help: the soonest a breaker half-opens or a provider's quota frees. */
  public Duration retryAfter() {
    return retryAfter;
  }

  /** Per provider, why it did not serve ("local: breaker open", "remote: at quota"). */
  public List<String> reasons() {
    return reasons;
  }
}
