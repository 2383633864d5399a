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

  /** Its page's DOM as HTML, as scripts have left it (the document element's outerHTML). */
  String html() throws BrowserException;

  /**
   * Evaluates a JavaScript expression in its page's main frame, awaiting a promise. A script that
   * throws is an {@link Evaluation} with its exception, not an exception here.
   *
   * @throws BrowserException of kind TIMEOUT when there is no value within {@code timeout}; TOO_LARGE
   *     when the value's JSON is over {@code maxResultBytes}
   */
  Evaluation evaluate(String expression, java.time.Duration timeout, int maxResultBytes) throws BrowserException;

  /**
   * Clicks the middle of the first element matching a CSS selector, once it is visible and enabled.
   *
   * @throws BrowserException of kind NO_SUCH_ELEMENT when none is within {@code timeout}; BAD_SELECTOR
   */
  void click(String selector, int clickCount, java.time.Duration timeout) throws BrowserException;

  /**
   * Focuses the first element matching a CSS selector, once it is visible and enabled, and types
   * {@code text} into it key by key ({@code clear}: after emptying it).
   *
   * @throws BrowserException of kind NO_SUCH_ELEMENT when none is within {@code timeout}; BAD_SELECTOR
   */
  void type(String selector, String text, boolean clear, java.time.Duration keyDelay, java.time.Duration timeout)
      throws BrowserException;

  /**
   * Puts a secret into the first password field matching a CSS selector, once it is visible and
   * enabled, but only while the page's origin is one of {@code origins} (as {@code location.origin} shows it): the check and the fill happen in
   * one step of the page's script, so no navigation can come between them. The field's value is
   * set as a user's typing would leave it ({@code input} and {@code change} events fire). Errors
   * never carry the value.
   *
   * @throws BrowserException of kind REFUSED when the page is of another origin or the element is
   *     not a password field; NO_SUCH_ELEMENT when none is within {@code timeout}; BAD_SELECTOR
   */
  void fillSecret(String selector, java.util.List<String> origins, String value, java.time.Duration timeout) throws BrowserException;

  /**
   * Its DevTools connection, for stock clients to share (see {@link
   * dev.paddock.browser.cdp.CdpConnection#attachClient}); empty when it cannot be shared.
   */
  default java.util.Optional<dev.paddock.browser.cdp.CdpConnection> devTools() {
    return java.util.Optional.empty();
  }

  /**
   * Calls {@code listener} once, from another thread, with why, when the browser goes without
   * having been closed (it crashed, was killed, or its endpoint went away). Default: never.
   */
  default void onLost(java.util.function.Consumer<String> listener) {}

  @Override
  void close();
}
