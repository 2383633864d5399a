package dev.paddock.browser;

/** A browser could not do what was asked; {@link #kind()} says why, for the caller's typed error. */
public final class BrowserException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Kind {
    /** The browser died, stopped answering or answered nonsense: it is of no further use. */
    FAILED,
    /** The browser is fine; what was asked did not finish in its time. */
    TIMEOUT,
    /** No visible, enabled element matched the selector in time. */
    NO_SUCH_ELEMENT,
    /** The selector is not valid CSS. */
    BAD_SELECTOR,
    /** The answer is over its size limit. */
    TOO_LARGE,
    /** What was asked is not allowed on the page as it is (e.g. a secret for another origin). */
    REFUSED
  }

  private final Kind kind;

  public BrowserException(String message) {
    this(Kind.FAILED, message);
  }

  public BrowserException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public BrowserException(String message, Throwable cause) {
    super(message, cause);
    this.kind = Kind.FAILED;
  }

  public Kind kind() {
    return kind;
  }
}
