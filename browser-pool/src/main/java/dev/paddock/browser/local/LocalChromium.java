package dev.paddock.browser.local;

import com.fasterxml.jackson.databind.JsonNode;
import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserException;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** One Chromium in its own jail, one page, driven over the DevTools pipe. */
final class LocalChromium implements Browser {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  /** Chromium's last words on stderr, for the error when it dies. */
  private static final int STDERR_TAIL = 4096;

  private final String id;
  private final Jail jail;
  private final JailProcess process;
  private final LinuxSyscalls linux;
  private final StringBuffer stderrTail = new StringBuffer();
  private CdpConnection cdp;
  private String targetId;
  private volatile String page;

  private final AutoCloseable egress;

  LocalChromium(String id, Jail jail, JailProcess process, LinuxSyscalls linux, AutoCloseable egress) {
    this.egress = egress;
    this.id = id;
    this.jail = jail;
    this.process = process;
    this.linux = linux;
  }

  /** Connects to the browser and opens its page; fails when it does not answer within {@code timeout}. */
  void open(Duration timeout) throws BrowserException {
    Thread drain = new Thread(this::drainStderr, "chromium-stderr-" + id);
    drain.setDaemon(true);
    drain.start();
    cdp = new CdpConnection(linux, process.stdin(), process.stdout(), id);
    JsonNode target;
    try {
      target = cdp.call(null, "Target.createTarget", CdpConnection.params().put("url", "about:blank"), timeout);
    } catch (BrowserException e) {
      throw new BrowserException(e.getMessage() + lastWords(), e);
    }
    targetId = target.path("targetId").asText();
    attach();
  }

  /** Attaches to the page (again: an error page can commit in another renderer, which detaches us). */
  private void attach() throws BrowserException {
    JsonNode attached = cdp.call(null, "Target.attachToTarget", CdpConnection.params().put("targetId", targetId)
        .put("flatten", true), CALL_TIMEOUT);
    page = attached.path("sessionId").asText();
    cdp.call(page, "Page.enable", null, CALL_TIMEOUT);
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
    return "local";
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public dev.paddock.browser.Navigation navigate(String url, Duration timeout) throws BrowserException {
    CompletableFuture<Void> loaded = new CompletableFuture<>();
    int[] status = {0};
    java.util.function.Consumer<JsonNode> listener = e -> {
      if (!page.equals(e.path("sessionId").asText())) {
        return;
      }
      String method = e.path("method").asText();
      if ("Page.loadEventFired".equals(method)) {
        loaded.complete(null);
      } else if ("Network.responseReceived".equals(method) && "Document".equals(e.path("params").path("type").asText())
          && targetId.equals(e.path("params").path("frameId").asText())) {
        status[0] = e.path("params").path("response").path("status").asInt(0);
      }
    };
    cdp.onEvent(listener);
    try {
      return navigate(url, timeout, loaded, status);
    } finally {
      cdp.removeListener(listener);
    }
  }

  private dev.paddock.browser.Navigation navigate(String url, Duration timeout, CompletableFuture<Void> loaded, int[] status)
      throws BrowserException {
    JsonNode result = onPage("Page.navigate", CdpConnection.params().put("url", url), timeout);
    String error = result.path("errorText").asText("");
    if (!error.isEmpty()) {
      return new dev.paddock.browser.Navigation(url, "", error, 0);
    }
    try {
      loaded.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new BrowserException("the page did not finish loading within " + timeout.toMillis() + " ms");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new BrowserException("the page did not load", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BrowserException("interrupted");
    }
    JsonNode page = onPage("Runtime.evaluate", CdpConnection.params()
        .put("expression", "[location.href, document.title]").put("returnByValue", true), CALL_TIMEOUT);
    JsonNode value = page.path("result").path("value");
    return new dev.paddock.browser.Navigation(value.path(0).asText(url), value.path(1).asText(""), "", status[0]);
  }

  @Override
  public byte[] screenshot() throws BrowserException {
    JsonNode shot = onPage("Page.captureScreenshot", CdpConnection.params().put("format", "png"), CALL_TIMEOUT);
    return Base64.getDecoder().decode(shot.path("data").asText());
  }

  @Override
  public String text() throws BrowserException {
    JsonNode r = onPage("Runtime.evaluate", CdpConnection.params()
        .put("expression", "document.body ? document.body.innerText : ''").put("returnByValue", true), CALL_TIMEOUT);
    return r.path("result").path("value").asText("");
  }

  @Override
  public void close() {
    if (cdp != null) {
      cdp.close();
    }
    closeQuietly(egress);
    jail.close("the browser was closed"); // its processes, profile and workspace go with the jail
  }

  static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }

  private void drainStderr() {
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = linux.read(process.stderr(), buf, 0, buf.length)) > 0) {
        stderrTail.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        if (stderrTail.length() > STDERR_TAIL) {
          stderrTail.delete(0, stderrTail.length() - STDERR_TAIL);
        }
      }
    } catch (NativeException | RuntimeException e) {
      // the browser is gone
    }
  }

  private String lastWords() {
    String tail = stderrTail.toString().strip();
    return tail.isEmpty() ? "" : " (Chromium said: " + tail.substring(Math.max(0, tail.length() - 500)) + ")";
  }
}
