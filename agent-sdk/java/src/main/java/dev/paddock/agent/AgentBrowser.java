package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.BrowserClick;
import dev.paddock.ipc.agent.v1.BrowserClose;
import dev.paddock.ipc.agent.v1.BrowserContent;
import dev.paddock.ipc.agent.v1.BrowserEvaluate;
import dev.paddock.ipc.agent.v1.BrowserNavigate;
import dev.paddock.ipc.agent.v1.BrowserReply;
import dev.paddock.ipc.agent.v1.BrowserRequest;
import dev.paddock.ipc.agent.v1.BrowserScreenshot;
import dev.paddock.ipc.agent.v1.BrowserType;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * A browser of the exec's session, driven through the host (the jail itself has no network): the
 * session's browser as if the planner had opened it, under the tenant's limits, budgets and egress
 * allow-list, closed with the session. Made by {@link Agent#openBrowser}; close it when done.
 *
 * <p>Timeouts: {@code null} means the host's 30 seconds; at most 5 minutes.
 */
public final class AgentBrowser implements AutoCloseable {
  /**
   * How a navigation ended.
   *
   * @param url        the page's URL after redirects; "" when it did not load
   * @param httpStatus the main document's HTTP status; 0 when there was none
   * @param title      the page's title
   * @param errorText  why the page did not load (e.g. "net::ERR_CONNECTION_REFUSED"); "" when it did
   */
  public record Navigation(String url, int httpStatus, String title, String errorText) {
    /** True when the page loaded, whatever its HTTP status. */
    public boolean ok() {
      return errorText.isEmpty();
    }
  }

  /**
   * What a script evaluated to.
   *
   * @param resultJson its value as JSON; "" when it has none JSON can hold, or it threw
   * @param exception  the exception's text when it threw, else ""
   */
  public record Evaluation(String resultJson, String exception) {}

  private final Function<BrowserRequest.Builder, BrowserReply> call;
  private final String id;
  private final String provider;

  AgentBrowser(Function<BrowserRequest.Builder, BrowserReply> call, String id, String provider) {
    this.call = call;
    this.id = id;
    this.provider = provider;
  }

  /** Its id (the same the host API shows). */
  public String id() {
    return id;
  }

  /** The provider serving it. */
  public String provider() {
    return provider;
  }

  /** Loads an http or https URL and waits for its load event; a page that did not load is a Navigation with its error. */
  public Navigation navigate(String url, Duration timeout) {
    BrowserReply r = call.apply(request().setNavigate(BrowserNavigate.newBuilder()
        .setUrl(Objects.requireNonNull(url, "url")).setTimeoutMs(millis(timeout))));
    return new Navigation(r.getUrl(), r.getHttpStatus(), r.getTitle(), r.getErrorText());
  }

  /** A PNG of the viewport. */
  public byte[] screenshot() {
    return call.apply(request().setScreenshot(BrowserScreenshot.getDefaultInstance())).getPng().toByteArray();
  }

  /** The text the page shows. */
  public String text() {
    return call.apply(request().setContent(BrowserContent.newBuilder().setHtml(false))).getContent();
  }

  /** The page's DOM as HTML, as its scripts left it. */
  public String html() {
    return call.apply(request().setContent(BrowserContent.newBuilder().setHtml(true))).getContent();
  }

  /**
   * Clicks the first element matching a CSS selector once it is visible and enabled.
   *
   * @throws NotFoundException when none is within {@code timeout}
   */
  public void click(String selector, Duration timeout) {
    call.apply(request().setClick(BrowserClick.newBuilder().setSelector(Objects.requireNonNull(selector, "selector"))
        .setTimeoutMs(millis(timeout))));
  }

  /**
   * Types text into the first element matching a CSS selector ({@code clear}: emptied first). The
   * host never records what is typed.
   *
   * @throws NotFoundException when none is within {@code timeout}
   */
  public void type(String selector, String text, boolean clear, Duration timeout) {
    call.apply(request().setType(BrowserType.newBuilder().setSelector(Objects.requireNonNull(selector, "selector"))
        .setText(Objects.requireNonNull(text, "text")).setClear(clear).setTimeoutMs(millis(timeout))));
  }

  /**
   * Puts the vault secret {@code secret} into the password field matching a CSS selector, where the
   * operator bound it to the page's origin. Its value never enters the jail.
   *
   * @throws PermissionDeniedException where it is not bound, or the element is not a password field
   * @throws NotFoundException when no such element is within {@code timeout}
   */
  public void typeSecret(String selector, String secret, Duration timeout) {
    call.apply(request().setType(BrowserType.newBuilder().setSelector(Objects.requireNonNull(selector, "selector"))
        .setSecret(Objects.requireNonNull(secret, "secret")).setTimeoutMs(millis(timeout))));
  }

  /**
   * Evaluates JavaScript in the page, awaiting a promise.
   *
   * @throws PermissionDeniedException unless the operator lets the tenant run scripts
   * @throws DeadlineExceededException past {@code timeout} (the script is stopped)
   */
  public Evaluation evaluate(String expression, Duration timeout) {
    BrowserReply r = call.apply(request().setEvaluate(BrowserEvaluate.newBuilder()
        .setExpression(Objects.requireNonNull(expression, "expression")).setTimeoutMs(millis(timeout))));
    return new Evaluation(r.getResultJson(), r.getException());
  }

  /** Closes the browser and wipes its profile. Closing a closed browser is fine. */
  @Override
  public void close() {
    call.apply(request().setClose(BrowserClose.getDefaultInstance()));
  }

  private BrowserRequest.Builder request() {
    return BrowserRequest.newBuilder().setBrowserId(id);
  }

  private static int millis(Duration timeout) {
    if (timeout == null) {
      return 0;
    }
    if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
      throw new IllegalArgumentException("a timeout is more than 0 and at most 5 minutes");
    }
    return (int) Math.max(1, timeout.toMillis());
  }
}
