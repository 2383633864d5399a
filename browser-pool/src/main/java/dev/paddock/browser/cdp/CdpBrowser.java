package dev.paddock.browser.cdp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserException;
import dev.paddock.browser.Evaluation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A browser's one page, driven over the DevTools protocol, whatever the transport and wherever
 * the browser runs. With a browser context of its own (a remote browser shared by several
 * requests) it is as fresh as a new profile, and closing it disposes of the context: its cookies,
 * storage and cache go with it.
 */
public final class CdpBrowser implements Browser {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private final String id;
  private final String provider;
  private final CdpConnection cdp;
  private final String browserContextId;
  private final AutoCloseable resources;
  private String targetId;
  private volatile String page;
  private volatile boolean closing;

  /**
   * @param browserContextId the context its page is made in; null = the browser's default (a
   *                         browser of its own, started for this request)
   * @param resources        closed after the connection when the browser closes (its jail, its
   *                         way out)
   */
  public CdpBrowser(String id, String provider, CdpConnection cdp, String browserContextId, AutoCloseable resources) {
    this.id = id;
    this.provider = provider;
    this.cdp = cdp;
    this.browserContextId = browserContextId;
    this.resources = resources;
  }

  /**
   * Opens its page: the browser's own first tab when it has one (a browser of its own), else a new
   * one on about:blank in its context. One page only: a second, hidden tab would never paint, and a
   * stock client picking it would wait forever for a screenshot. Fails when the browser does not
   * answer within {@code timeout}.
   */
  public void open(Duration timeout) throws BrowserException {
    if (browserContextId == null) {
      for (JsonNode t : cdp.call(null, "Target.getTargets", null, timeout).path("targetInfos")) {
        if ("page".equals(t.path("type").asText())) {
          targetId = t.path("targetId").asText();
          break;
        }
      }
    }
    if (targetId == null) {
      var params = CdpConnection.params().put("url", "about:blank");
      if (browserContextId != null) {
        params.put("browserContextId", browserContextId);
      }
      targetId = cdp.call(null, "Target.createTarget", params, timeout).path("targetId").asText();
    }
    attach();
  }

  @Override
  public void onLost(java.util.function.Consumer<String> listener) {
    cdp.whenEnded(why -> {
      if (!closing) {
        listener.accept(why);
      }
    });
  }

  @Override
  public java.util.Optional<CdpConnection> devTools() {
    return java.util.Optional.of(cdp);
  }

  /** The browser still answers. */
  public boolean alive() {
    return cdp.open();
  }

  /** Attaches to the page (again: an error page can commit in another renderer, which detaches us). */
  private void attach() throws BrowserException {
    JsonNode attached = cdp.call(null, "Target.attachToTarget", CdpConnection.params().put("targetId", targetId)
        .put("flatten", true), CALL_TIMEOUT);
    page = attached.path("sessionId").asText();
    cdp.call(page, "Page.enable", null, CALL_TIMEOUT);
    cdp.call(page, "Page.setLifecycleEventsEnabled", CdpConnection.params().put("enabled", true), CALL_TIMEOUT);
    cdp.call(page, "Network.enable", null, CALL_TIMEOUT); // for the main document's HTTP status
  }

  /** A command to the page, re-attaching once when the page's renderer changed under us. */
  private JsonNode onPage(String method, com.fasterxml.jackson.databind.node.ObjectNode params, Duration timeout)
      throws BrowserException {
    try {
      return cdp.call(page, method, params, timeout);
    } catch (BrowserException e) {
      String m = String.valueOf(e.getMessage());
      if (!m.contains("Not attached") && !m.contains("No session")) {
        throw e;
      }
      attach();
      return cdp.call(page, method, params, timeout);
    }
  }

  @Override
  public String provider() {
    return provider;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public dev.paddock.browser.Navigation navigate(String url, Duration timeout) throws BrowserException {
    // Events are told apart by the navigation's loader: a late load event or response of an earlier
    // navigation (one that timed out, say) must not end this one.
    java.util.Set<String> loaded = java.util.concurrent.ConcurrentHashMap.newKeySet();
    java.util.Map<String, Integer> statuses = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.function.Consumer<JsonNode> listener = e -> {
      if (!page.equals(e.path("sessionId").asText())) {
        return;
      }
      String method = e.path("method").asText();
      JsonNode p = e.path("params");
      if ("Page.lifecycleEvent".equals(method) && "load".equals(p.path("name").asText())
          && targetId.equals(p.path("frameId").asText())) {
        synchronized (loaded) {
          loaded.add(p.path("loaderId").asText());
          loaded.notifyAll();
        }
      } else if ("Network.responseReceived".equals(method) && "Document".equals(p.path("type").asText())
          && targetId.equals(p.path("frameId").asText())) {
        statuses.put(p.path("loaderId").asText(), p.path("response").path("status").asInt(0));
      }
    };
    cdp.onEvent(listener);
    try {
      JsonNode result = onPage("Page.navigate", CdpConnection.params().put("url", url), timeout);
      String error = result.path("errorText").asText("");
      if (!error.isEmpty()) {
        return new dev.paddock.browser.Navigation(url, "", error, 0);
      }
      String loader = result.path("loaderId").asText("");
      if (!loader.isEmpty()) { // none: a navigation within the same document, already done
        awaitLoad(loaded, loader, timeout);
      }
      JsonNode now = onPage("Runtime.evaluate", CdpConnection.params()
          .put("expression", "[location.href, document.title]").put("returnByValue", true), CALL_TIMEOUT);
      JsonNode value = now.path("result").path("value");
      return new dev.paddock.browser.Navigation(value.path(0).asText(url), value.path(1).asText(""), "",
          statuses.getOrDefault(loader, 0));
    } finally {
      cdp.removeListener(listener);
    }
  }

  private static void awaitLoad(java.util.Set<String> loaded, String loader, Duration timeout) throws BrowserException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (loaded) {
      while (!loaded.contains(loader)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new BrowserException(BrowserException.Kind.TIMEOUT,
              "the page did not finish loading within " + timeout.toMillis() + " ms");
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(loaded, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new BrowserException("interrupted");
        }
      }
    }
  }

  @Override
  public byte[] screenshot() throws BrowserException {
    JsonNode shot = onPage("Page.captureScreenshot", CdpConnection.params().put("format", "png"), CALL_TIMEOUT);
    return Base64.getDecoder().decode(shot.path("data").asText());
  }

  @Override
  public String text() throws BrowserException {
    return evaluateValue("document.body ? document.body.innerText : ''").asText("");
  }

  @Override
  public String html() throws BrowserException {
    return evaluateValue("document.documentElement ? document.documentElement.outerHTML : ''").asText("");
  }

  @Override
  public Evaluation evaluate(String expression, Duration timeout, int maxResultBytes) throws BrowserException {
    JsonNode r;
    try {
      r = onPage("Runtime.evaluate", CdpConnection.params().put("expression", expression).put("awaitPromise", true)
          .put("returnByValue", true).put("userGesture", true), timeout);
    } catch (BrowserException e) {
      if (e.kind() == BrowserException.Kind.TIMEOUT) {
        // A script that never yields would hold the page's only thread for every later call.
        onPage("Runtime.terminateExecution", null, CALL_TIMEOUT);
      }
      throw e;
    }
    JsonNode thrown = r.path("exceptionDetails");
    if (!thrown.isMissingNode()) {
      String text = thrown.path("exception").path("description").asText(thrown.path("text").asText("an exception"));
      return new Evaluation("", text.length() > maxResultBytes ? text.substring(0, maxResultBytes) : text);
    }
    JsonNode value = r.path("result").path("value");
    String json = value.isMissingNode() ? "" : CdpConnection.toJson(value);
    if (json.length() > maxResultBytes) { // chars <= bytes: a cheap first look
      throw new BrowserException(BrowserException.Kind.TOO_LARGE, "the value's JSON is over " + maxResultBytes + " bytes");
    }
    if (json.getBytes(StandardCharsets.UTF_8).length > maxResultBytes) {
      throw new BrowserException(BrowserException.Kind.TOO_LARGE, "the value's JSON is over " + maxResultBytes + " bytes");
    }
    return new Evaluation(json, "");
  }

  @Override
  public void click(String selector, int clickCount, Duration timeout) throws BrowserException {
    JsonNode at = awaitElement(selector, "", "", timeout);
    double x = at.path("x").asDouble();
    double y = at.path("y").asDouble();
    onPage("Input.dispatchMouseEvent", CdpConnection.params().put("type", "mouseMoved").put("x", x).put("y", y), CALL_TIMEOUT);
    for (int i = 1; i <= clickCount; i++) {
      for (String type : new String[] {"mousePressed", "mouseReleased"}) {
        onPage("Input.dispatchMouseEvent", CdpConnection.params().put("type", type).put("x", x).put("y", y)
            .put("button", "left").put("clickCount", i), CALL_TIMEOUT);
      }
    }
  }

  @Override
  public void type(String selector, String text, boolean clear, Duration keyDelay, Duration timeout)
      throws BrowserException {
    // Focus it (and empty it) in the page, in the same step that finds it.
    String then = "el.focus();" + (clear ? "if ('value' in el) { el.value = ''; el.dispatchEvent(new Event('input', "
        + "{bubbles: true})); } else if (el.isContentEditable) { el.textContent = ''; }" : "");
    awaitElement(selector, "", then, timeout);
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      String key = new String(Character.toChars(cp));
      if (cp == '\n' || cp == '\r') {
        key(CdpConnection.params().put("key", "Enter").put("code", "Enter").put("windowsVirtualKeyCode", 13).put("text", "\r"));
      } else {
        key(CdpConnection.params().put("key", key).put("text", key).put("unmodifiedText", key));
      }
      if (!keyDelay.isZero()) {
        sleep(keyDelay.toMillis());
      }
    }
  }

  private void key(com.fasterxml.jackson.databind.node.ObjectNode event) throws BrowserException {
    onPage("Input.dispatchKeyEvent", event.deepCopy().put("type", "keyDown"), CALL_TIMEOUT);
    event.remove("text");
    event.remove("unmodifiedText");
    onPage("Input.dispatchKeyEvent", event.put("type", "keyUp"), CALL_TIMEOUT);
  }

  @Override
  public void fillSecret(String selector, java.util.List<String> origins, String value, Duration timeout)
      throws BrowserException {
    // Checked and filled in one turn of the page's event loop: the document cannot change between.
    String allowed = "[" + String.join(", ", origins.stream().map(CdpConnection::quote).toList()) + "]";
    String guard = "if (!" + allowed + ".includes(location.origin)) return {refused: 'the page is of origin '"
        + " + location.origin + ', not one this secret is bound to (' + " + allowed + ".join(', ') + ')'};"
        + " if (el && (!(el instanceof HTMLInputElement) || el.type !== 'password')) return {refused: 'the element is a '"
        + " + el.tagName.toLowerCase() + (el.type ? ' of type ' + el.type : '') + ', not a password field'};";
    String fill = "el.focus(); Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, "
        + CdpConnection.quote(value) + "); el.dispatchEvent(new Event('input', {bubbles: true}));"
        + " el.dispatchEvent(new Event('change', {bubbles: true}));";
    try {
      awaitElement(selector, guard, fill, timeout);
    } catch (BrowserException e) {
      if (e.kind() == BrowserException.Kind.FAILED) { // its text could quote the script, and the script holds the value
        throw new BrowserException("the page's script failed while filling the field");
      }
      throw e;
    }
  }

  /**
   * Waits for the first element matching {@code selector} to be visible and enabled, scrolls it into
   * view, runs {@code then} (script text with the element as {@code el}) and answers its middle.
   * {@code guard} (script text too) runs at each look, before the visibility checks, with {@code el}
   * null while there is no match, and may refuse by returning {@code {refused: why}}.
   */
  private JsonNode awaitElement(String selector, String guard, String then, Duration timeout) throws BrowserException {
    String script = "(() => { let el; try { el = document.querySelector(" + CdpConnection.quote(selector) + "); }"
        + " catch (e) { return {bad: String(e.message)}; }"
        + guard
        + " if (!el) return null;"
        + " el.scrollIntoView({block: 'center', inline: 'center'});"
        + " const r = el.getBoundingClientRect(); const st = getComputedStyle(el);"
        + " if (r.width === 0 || r.height === 0 || st.visibility === 'hidden' || el.disabled) return null;"
        + then
        + " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()";
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode found = evaluateValue(script);
      if (found.has("bad")) {
        throw new BrowserException(BrowserException.Kind.BAD_SELECTOR, "not a valid CSS selector: " + found.get("bad").asText());
      }
      if (found.has("refused")) {
        throw new BrowserException(BrowserException.Kind.REFUSED, found.get("refused").asText());
      }
      if (found.has("x")) {
        return found;
      }
      if (System.nanoTime() > deadline) {
        throw new BrowserException(BrowserException.Kind.NO_SUCH_ELEMENT,
            "no visible, enabled element matched the selector within " + timeout.toMillis() + " ms");
      }
      sleep(50);
    }
  }

  /** The value of a script of ours (not the tenant's) in the page. */
  private JsonNode evaluateValue(String script) throws BrowserException {
    JsonNode r = onPage("Runtime.evaluate", CdpConnection.params().put("expression", script).put("returnByValue", true),
        CALL_TIMEOUT);
    if (r.has("exceptionDetails")) {
      throw new BrowserException("the page's script failed: " + r.path("exceptionDetails").path("text").asText());
    }
    return r.path("result").path("value");
  }

  private static void sleep(long millis) throws BrowserException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BrowserException("interrupted");
    }
  }

  @Override
  public void close() {
    closing = true;
    if (browserContextId != null && cdp.open()) {
      try { // a shared browser: its context goes, with every cookie and byte of storage in it
        cdp.call(null, "Target.disposeBrowserContext", CdpConnection.params().put("browserContextId", browserContextId),
            CLOSE_TIMEOUT);
      } catch (BrowserException e) {
        // the connection closes below either way; the remote end drops what it held
      }
    }
    cdp.close();
    try {
      resources.close();
    } catch (Exception e) {
      // closing anyway
    }
  }
}
