package dev.paddock.browser;

/** One browser, for one tenant's one task; closing it wipes it. */
public interface Browser extends AutoCloseable {
  /** The provider that started it. */
  String provider();

  /** Its id, unique on this host. */
  String id();

  /** Loads {@code url} in its page and waits until it has loaded (or {@code timeout} passed). */
  void navigate(String url, java.time.Duration timeout) throws BrowserException;

  /** A PNG of what its page shows. */
  byte[] screenshot() throws BrowserException;

  /** The text its page shows (the body's innerText). */
  String text() throws BrowserException;

  @Override
  void close();
}
