package dev.paddock.client;

import dev.paddock.ipc.v1.Browser;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.ClickRequest;
import dev.paddock.ipc.v1.ClickResponse;
import dev.paddock.ipc.v1.CloseBrowserRequest;
import dev.paddock.ipc.v1.CloseBrowserResponse;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.EvaluateRequest;
import dev.paddock.ipc.v1.EvaluateResponse;
import dev.paddock.ipc.v1.GetBrowserRequest;
import dev.paddock.ipc.v1.GetContentRequest;
import dev.paddock.ipc.v1.GetContentResponse;
import dev.paddock.ipc.v1.ListBrowsersRequest;
import dev.paddock.ipc.v1.ListBrowsersResponse;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.NavigateResponse;
import dev.paddock.ipc.v1.ScreenshotRequest;
import dev.paddock.ipc.v1.ScreenshotResponse;
import dev.paddock.ipc.v1.TypeRequest;
import dev.paddock.ipc.v1.TypeResponse;
import java.time.Duration;

/**
 * BrowserService: a session's browsers and their pages. Page actions get the host's longest action timeout (5 minutes) and some as their deadline, whatever the client's. One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class BrowserCalls extends ServiceCalls<BrowserServiceGrpc.BrowserServiceBlockingStub> {
  BrowserCalls(Connection connection) {
    this(connection, Duration.ofSeconds(330));
  }

  private BrowserCalls(Connection connection, Duration deadline) {
    super(connection, deadline, BrowserServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public BrowserCalls withDeadline(Duration deadline) {
    return new BrowserCalls(connection, deadline);
  }

  /** BrowserService.CreateBrowser. */
  public Browser createBrowser(CreateBrowserRequest request) {
    return connection.call(() -> unary().createBrowser(request));
  }

  /** BrowserService.GetBrowser. */
  public Browser getBrowser(GetBrowserRequest request) {
    return connection.call(() -> unary().getBrowser(request));
  }

  /** BrowserService.ListBrowsers. */
  public ListBrowsersResponse listBrowsers(ListBrowsersRequest request) {
    return connection.call(() -> unary().listBrowsers(request));
  }

  /** BrowserService.CloseBrowser. */
  public CloseBrowserResponse closeBrowser(CloseBrowserRequest request) {
    return connection.call(() -> unary().closeBrowser(request));
  }

  /** BrowserService.Navigate. */
  public NavigateResponse navigate(NavigateRequest request) {
    return connection.call(() -> unary().navigate(request));
  }

  /** BrowserService.Evaluate. */
  public EvaluateResponse evaluate(EvaluateRequest request) {
    return connection.call(() -> unary().evaluate(request));
  }

  /** BrowserService.GetContent. */
  public GetContentResponse getContent(GetContentRequest request) {
    return connection.call(() -> unary().getContent(request));
  }

  /** BrowserService.Screenshot. */
  public ScreenshotResponse screenshot(ScreenshotRequest request) {
    return connection.call(() -> unary().screenshot(request));
  }

  /** BrowserService.Click. */
  public ClickResponse click(ClickRequest request) {
    return connection.call(() -> unary().click(request));
  }

  /** BrowserService.Type. */
  public TypeResponse type(TypeRequest request) {
    return connection.call(() -> unary().type(request));
  }
}
