package dev.paddock.browser;

/** A browser could not do what was asked (a page that did not load, a browser that died). */
public final class BrowserException extends Exception {
  private static final long serialVersionUID = 1L;

  public BrowserException(String message) {
    super(message);
  }

  public BrowserException(String message, Throwable cause) {
    super(message, cause);
  }
}
