package dev.paddock.runtime.ipc;

import com.google.protobuf.ByteString;
import dev.paddock.browser.Evaluation;
import dev.paddock.browser.Navigation;
import dev.paddock.ipc.agent.v1.BrowserReply;
import dev.paddock.ipc.agent.v1.BrowserRequest;
import dev.paddock.ipc.agent.v1.IpcErrorReason;
import dev.paddock.runtime.browser.BrowserManager;
import dev.paddock.runtime.tenant.Principal;
import java.time.Duration;

/**
 * The browser actions of code inside a jail (paddock.ipc.v1.BrowserRequest), served by the same
 * {@link BrowserManager} as the host API, for the exec's own session only: the same limits,
 * budgets, egress and typed errors.
 */
final class BrowserTools {
  private static final long MAX_TIMEOUT_MS = 300_000;
  private final BrowserManager browsers;
  private final int maxFrameBytes;

  BrowserTools(BrowserManager browsers, int maxFrameBytes) {
    this.browsers = browsers;
    this.maxFrameBytes = maxFrameBytes;
  }

  BrowserReply serve(Principal caller, String sessionId, BrowserRequest r) {
    String id = r.getBrowserId();
    BrowserReply.Builder reply = BrowserReply.newBuilder().setBrowserId(id);
    if (r.getActionCase() != BrowserRequest.ActionCase.OPEN && id.isEmpty()) {
      throw ToolRefusal.invalid("browser_id", "is required");
    }
    switch (r.getActionCase()) {
      case OPEN -> {
        BrowserManager.Entry e = browsers.create(caller, sessionId, r.getOpen().getProvider());
        reply.setBrowserId(e.id()).setProvider(e.provider());
      }
      case NAVIGATE -> {
        Navigation n = browsers.navigate(caller, sessionId, id, r.getNavigate().getUrl(),
            timeout(r.getNavigate().getTimeoutMs()));
        reply.setUrl(n.loaded() ? n.url() : "").setHttpStatus(n.httpStatus()).setTitle(n.title())
            .setErrorText(n.errorText());
      }
      case SCREENSHOT -> {
        byte[] png = browsers.screenshot(caller, sessionId, id);
        if (png.length > room()) {
          throw ToolRefusal.tooLarge("png", room());
        }
        reply.setPng(ByteString.copyFrom(png));
      }
      case CONTENT -> {
        String content = fitting("content", browsers.content(caller, sessionId, id, r.getContent().getHtml()));
        reply.setContent(content).setUrl(browsers.get(caller, sessionId, id).url());
      }
      case CLICK -> browsers.click(caller, sessionId, id, r.getClick().getSelector(), r.getClick().getClickCount(),
          timeout(r.getClick().getTimeoutMs()));
      case TYPE -> browsers.type(caller, sessionId, id, r.getType().getSelector(), r.getType().getText(),
          r.getType().getSecret(), r.getType().getClear(), Duration.ZERO, timeout(r.getType().getTimeoutMs()));
      case EVALUATE -> {
        Evaluation v = browsers.evaluate(caller, sessionId, id, r.getEvaluate().getExpression(),
            timeout(r.getEvaluate().getTimeoutMs()));
        reply.setResultJson(fitting("result_json", v.resultJson())).setException(v.exception());
      }
      case CLOSE -> browsers.close(caller, sessionId, id);
      default -> throw new ToolRefusal(IpcErrorReason.IPC_ERROR_UNKNOWN_REQUEST, "not a browser action this host knows");
    }
    return reply.build();
  }

  /** Room for a value in one reply frame, bytes. */
  private int room() {
    return maxFrameBytes - ToolBroker.REPLY_OVERHEAD;
  }

  /** {@code text} when its UTF-8 fits in a reply frame; else the field is refused as too large. */
  private String fitting(String field, String text) {
    if (text.length() > room() / 3 && text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > room()) {
      throw ToolRefusal.tooLarge(field, room());
    }
    return text;
  }

  private static Duration timeout(int millis) {
    long ms = Integer.toUnsignedLong(millis);
    if (ms > MAX_TIMEOUT_MS) {
      throw ToolRefusal.invalid("timeout_ms", "must be at most " + MAX_TIMEOUT_MS);
    }
    return Duration.ofMillis(ms == 0 ? 30_000 : ms);
  }
}
