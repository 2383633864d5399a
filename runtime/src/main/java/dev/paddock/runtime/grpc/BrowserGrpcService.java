package dev.paddock.runtime.grpc;

import com.google.protobuf.ByteString;
import dev.paddock.browser.Evaluation;
import dev.paddock.browser.Navigation;
import dev.paddock.ipc.v1.ContentFormat;
import dev.paddock.ipc.v1.GetContentRequest;
import dev.paddock.ipc.v1.GetContentResponse;
import dev.paddock.ipc.v1.Browser;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.BrowserState;
import dev.paddock.ipc.v1.ClickRequest;
import dev.paddock.ipc.v1.ClickResponse;
import dev.paddock.ipc.v1.CloseBrowserRequest;
import dev.paddock.ipc.v1.CloseBrowserResponse;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.EvaluateRequest;
import dev.paddock.ipc.v1.EvaluateResponse;
import dev.paddock.ipc.v1.GetBrowserRequest;
import dev.paddock.ipc.v1.ImageFormat;
import dev.paddock.ipc.v1.ListBrowsersRequest;
import dev.paddock.ipc.v1.ListBrowsersResponse;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.NavigateResponse;
import dev.paddock.ipc.v1.ScreenshotRequest;
import dev.paddock.ipc.v1.ScreenshotResponse;
import dev.paddock.ipc.v1.TypeRequest;
import dev.paddock.ipc.v1.TypeResponse;
import dev.paddock.runtime.browser.BrowserManager;
import dev.paddock.runtime.errors.PaddockException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;

/**
 * BrowserService: browsers of a session, from the host's providers. A JPEG or full-page screenshot
 * and Navigate's wait_until and CreateBrowser's viewport are not built yet (UNIMPLEMENTED, or the
 * default: the page's load event, 1280 x 800).
 */
final class BrowserGrpcService extends BrowserServiceGrpc.BrowserServiceImplBase {
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration MAX_TIMEOUT = Duration.ofMinutes(5);
  private final BrowserManager browsers;

  BrowserGrpcService(BrowserManager browsers) {
    this.browsers = browsers;
  }

  @Override
  public void createBrowser(CreateBrowserRequest req, StreamObserver<Browser> out) {
    SessionGrpcService.unary(out, () -> {
      BrowserManager.Created c = browsers.createWithDevTools(AuthInterceptor.current(), req.getSessionId(), req.getProvider());
      return toProto(c.entry()).toBuilder().setDevtoolsUrl(c.devtoolsUrl()).setDevtoolsWsUrl(c.devtoolsWsUrl()).build();
    });
  }

  @Override
  public void getBrowser(GetBrowserRequest req, StreamObserver<Browser> out) {
    SessionGrpcService.unary(out, () -> toProto(browsers.get(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId())));
  }

  @Override
  public void listBrowsers(ListBrowsersRequest req, StreamObserver<ListBrowsersResponse> out) {
    SessionGrpcService.unary(out, () -> {
      ListBrowsersResponse.Builder b = ListBrowsersResponse.newBuilder();
      browsers.list(AuthInterceptor.current(), req.getSessionId()).forEach(e -> b.addBrowsers(toProto(e)));
      return b.build();
    });
  }

  @Override
  public void closeBrowser(CloseBrowserRequest req, StreamObserver<CloseBrowserResponse> out) {
    SessionGrpcService.unary(out, () -> {
      browsers.close(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId());
      return CloseBrowserResponse.getDefaultInstance();
    });
  }

  @Override
  public void navigate(NavigateRequest req, StreamObserver<NavigateResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Duration timeout = timeout(req.hasTimeout(), req.getTimeout());
      Navigation n = browsers.navigate(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId(), req.getUrl(), timeout);
      // A page that did not load has no URL (the proto's contract), only its error.
      return NavigateResponse.newBuilder().setUrl(n.loaded() ? n.url() : "").setTitle(n.title())
          .setErrorText(n.errorText()).setHttpStatus(n.httpStatus()).build();
    });
  }

  @Override
  public void screenshot(ScreenshotRequest req, StreamObserver<ScreenshotResponse> out) {
    SessionGrpcService.unary(out, () -> {
      if (req.getFormat() == ImageFormat.IMAGE_FORMAT_JPEG || req.getFullPage()) {
        throw new PaddockException.Unimplemented("Screenshot with JPEG or full_page");
      }
      byte[] png = browsers.screenshot(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId());
      return ScreenshotResponse.newBuilder().setImage(ByteString.copyFrom(png)).setFormat(ImageFormat.IMAGE_FORMAT_PNG)
          .setWidth(pngInt(png, 16)).setHeight(pngInt(png, 20)).build();
    });
  }

  @Override
  public void evaluate(EvaluateRequest req, StreamObserver<EvaluateResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Evaluation r = browsers.evaluate(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId(), req.getExpression(),
          timeout(req.hasTimeout(), req.getTimeout()));
      return EvaluateResponse.newBuilder().setResultJson(r.resultJson()).setException(r.exception()).build();
    });
  }

  @Override
  public void getContent(GetContentRequest req, StreamObserver<GetContentResponse> out) {
    SessionGrpcService.unary(out, () -> {
      boolean html = switch (req.getFormat()) {
        case CONTENT_FORMAT_UNSPECIFIED, CONTENT_FORMAT_TEXT -> false;
        case CONTENT_FORMAT_HTML -> true;
        default -> throw new PaddockException.InvalidArgument("format", "unknown content format");
      };
      String content = browsers.content(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId(), html);
      return GetContentResponse.newBuilder().setContent(content)
          .setFormat(html ? ContentFormat.CONTENT_FORMAT_HTML : ContentFormat.CONTENT_FORMAT_TEXT)
          .setUrl(browsers.get(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId()).url()).build();
    });
  }

  @Override
  public void click(ClickRequest req, StreamObserver<ClickResponse> out) {
    SessionGrpcService.unary(out, () -> {
      browsers.click(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId(), req.getSelector(),
          req.getClickCount(), timeout(req.hasTimeout(), req.getTimeout()));
      return ClickResponse.getDefaultInstance();
    });
  }

  @Override
  public void type(TypeRequest req, StreamObserver<TypeResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Duration keyDelay = req.hasKeyDelay() ? Protos.duration("key_delay", req.getKeyDelay()) : Duration.ZERO;
      browsers.type(AuthInterceptor.current(), req.getSessionId(), req.getBrowserId(), req.getSelector(), req.getText(),
          req.getSecret(), req.getClear(), keyDelay, timeout(req.hasTimeout(), req.getTimeout()));
      return TypeResponse.getDefaultInstance();
    });
  }

  /** An action's timeout field: unset = 30 seconds; more than 0 and at most 5 minutes. */
  private static Duration timeout(boolean set, com.google.protobuf.Duration value) {
    Duration timeout = set ? Protos.duration("timeout", value) : DEFAULT_TIMEOUT;
    if (timeout.isZero() || timeout.isNegative() || timeout.compareTo(MAX_TIMEOUT) > 0) {
      throw new PaddockException.InvalidArgument("timeout", "more than 0 and at most 5 minutes");
    }
    return timeout;
  }

  /** A PNG's width or height: big-endian in its IHDR chunk, at byte 16 and 20. */
  private static int pngInt(byte[] png, int at) {
    if (png.length < at + 4) {
      return 0;
    }
    return (png[at] & 0xff) << 24 | (png[at + 1] & 0xff) << 16 | (png[at + 2] & 0xff) << 8 | (png[at + 3] & 0xff);
  }

  private static Browser toProto(BrowserManager.Entry e) {
    Browser.Builder b = Browser.newBuilder().setBrowserId(e.id()).setSessionId(e.sessionId()).setProvider(e.provider())
        .setCreateTime(Protos.toProto(e.created())).setCurrentUrl(e.url()).setReplacements(e.replacements())
        .setState(switch (e.state()) {
          case ACTIVE -> BrowserState.BROWSER_STATE_ACTIVE;
          case CLOSED -> BrowserState.BROWSER_STATE_CLOSED;
          case FAILED -> BrowserState.BROWSER_STATE_FAILED;
        });
    if (e.closedAt() != null) {
      b.setCloseTime(Protos.toProto(e.closedAt()));
    }
    return b.build();
  }
}
