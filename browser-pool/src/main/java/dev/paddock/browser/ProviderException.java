package dev.paddock.browser;

import java.time.Duration;

/** A provider could not give a browser. Counts as its failure, unless it is a {@link Quota}. */
public class ProviderException extends Exception {
  private static final long serialVersionUID = 1L;

  public ProviderException(String message) {
    super(message);
  }

  public ProviderException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * The provider is at its quota (HTTP 429, a "too many sessions" answer): healthy, but busy. Moves
   * the request on without counting against the provider's breaker.
   */
  public static final class Quota extends ProviderException {
    private static final long serialVersionUID = 1L;
    private final Duration retryAfter;

    /** @param retryAfter when the provider said to come back (Retry-After), or null */
    public Quota(String message, Duration retryAfter) {
      super(message);
      this.retryAfter = retryAfter;
    }

    /** When the provider said to come back; null when it did not say. */
    public Duration retryAfter() {
      return retryAfter;
    }
  }
}
