package dev.paddock.browser;

/**
 * How a navigation ended.
 *
 * @param url       the page's URL afterwards
 * @param title     its title, "" when it has none
 * @param errorText the browser's error when the page did not load (e.g. "net::ERR_PROXY_CONNECTION_FAILED"), else ""
 * @param httpStatus the HTTP status of the page's main document; 0 when there was no HTTP response
 */
public record Navigation(String url, String title, String errorText, int httpStatus) {
  /** The page loaded (whatever its HTTP status): no browser error. */
  public boolean loaded() {
    return errorText.isEmpty();
  }
}
