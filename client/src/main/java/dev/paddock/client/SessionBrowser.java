package dev.paddock.client;

import dev.paddock.ipc.v1.ClickRequest;
import dev.paddock.ipc.v1.CloseBrowserRequest;
import dev.paddock.ipc.v1.ContentFormat;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.EvaluateRequest;
import dev.paddock.ipc.v1.EvaluateResponse;
import dev.paddock.ipc.v1.GetContentRequest;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.NavigateResponse;
import dev.paddock.ipc.v1.ScreenshotRequest;
import dev.paddock.ipc.v1.TypeRequest;

/**
 * A browser of a session: for this session only, with a fresh profile, closed with it. Page
 * actions wait up to their own timeout (30 s by default on the host).
 */
public final class SessionBrowser implements AutoCloseable {
  private final BrowserCalls browsers;
  private final dev.paddock.ipc.v1.Browser created;

  private SessionBrowser(BrowserCalls browsers, dev.paddock.ipc.v1.Browser created) {
    this.browsers = browsers;
    this.created = created;
  }

  static SessionBrowser open(BrowserCalls browsers, String sessionId, String provider) {
    return new SessionBrowser(browsers, browsers.createBrowser(CreateBrowserRequest.newBuilder().setSessionId(sessionId)
        .setProvider(provider).build()));
  }

  /** Its id ({@code brw_...}). */
  public String id() {
    return created.getBrowserId();
  }

  /** Its DevTools URL for stock clients (Playwright connectOverCDP), shown only here; "" when it has none. */
  public String devtoolsUrl() {
    return created.getDevtoolsUrl();
  }

  /** Loads {@code url} and waits for it: a page that did not load is an answer with error_text, not an exception. */
  public NavigateResponse navigate(String url) {
    return browsers.navigate(NavigateRequest.newBuilder().setSessionId(sessionId()).setBrowserId(id())
        .setUrl(url).build());
  }

  /** A PNG of what the page shows. */
  public byte[] screenshot() {
    return browsers.screenshot(ScreenshotRequest.newBuilder().setSessionId(sessionId())
        .setBrowserId(id()).build()).getImage().toByteArray();
  }

  /** The text the page shows. */
  public String text() {
    return content(ContentFormat.CONTENT_FORMAT_TEXT);
  }

  /** The page's DOM as HTML. */
  public String html() {
    return content(ContentFormat.CONTENT_FORMAT_HTML);
  }

  /** Clicks the first element matching a CSS selector, once it is visible and enabled. */
  public void click(String selector) {
    browsers.click(ClickRequest.newBuilder().setSessionId(sessionId()).setBrowserId(id())
        .setSelector(selector).build());
  }

  /** Types {@code text} into the first element matching a CSS selector, key by key. */
  public void type(String selector, String text) {
    browsers.type(TypeRequest.newBuilder().setSessionId(sessionId()).setBrowserId(id())
        .setSelector(selector).setText(text).build());
  }

  /** Puts the tenant's vault secret {@code secret} into a password field, where the operator bound it to the page's origin. */
  public void typeSecret(String selector, String secret) {
    browsers.type(TypeRequest.newBuilder().setSessionId(sessionId()).setBrowserId(id())
        .setSelector(selector).setSecret(secret).build());
  }

  /** Evaluates JavaScript in the page (only for tenants the operator lets run scripts). */
  public EvaluateResponse evaluate(String expression) {
    return browsers.evaluate(EvaluateRequest.newBuilder().setSessionId(sessionId()).setBrowserId(id())
        .setExpression(expression).build());
  }

  /** Closes it: its pages, cookies and storage are gone. Closing a closed one is fine. */
  @Override
  public void close() {
    browsers.closeBrowser(CloseBrowserRequest.newBuilder().setSessionId(sessionId())
        .setBrowserId(id()).build());
  }

  private String content(ContentFormat format) {
    return browsers.getContent(GetContentRequest.newBuilder().setSessionId(sessionId())
        .setBrowserId(id()).setFormat(format).build()).getContent();
  }

  private String sessionId() {
    return created.getSessionId();
  }
}
