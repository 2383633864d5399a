package dev.paddock.browser;

/** One browser, for one tenant's one task; closing it wipes it. */
public interface Browser extends AutoCloseable {
  /** The provider that started it. */
  String provider();

  /** Its id, unique on this host. */
  String id();

  /**
   * Loads {@code url} in its page and waits until it has loaded. A page that does not load (refused,
   * unreachable) is a {@link Navigation} with its error, not an exception.
   *
   * @throws BrowserException when the browser does not answer within {@code timeout} or is gone
   */
  Navigation navigate(String url, java.time.Duration timeout) throws BrowserException;

  /** A PNG of what its page shows. */
  byte[] screenshot() throws BrowserException;

  /** The text its page shows (the body's innerText). */
  String text() throws BrowserException;

  @Override
  void close();
}
