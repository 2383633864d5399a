package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.paddock.audit.log.Segments;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.BrowserState;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.GetBrowserRequest;
import dev.paddock.ipc.v1.ListBrowsersRequest;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.ScreenshotRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** BrowserService over a real host: a real Chromium in a jail of its own, per session, closed with it. */
class BrowserEndToEndTest extends SharedHostTest {
  private BrowserServiceGrpc.BrowserServiceBlockingStub browsers(String key) {
    return BrowserServiceGrpc.newBlockingStub(host.channel(key, null)).withDeadlineAfter(90, TimeUnit.SECONDS);
  }

  @Test
  void aSessionsBrowserTakesScreenshotsReachesNothingYetAndClosesWithItsSession() throws Exception {
    String session = host.newSession(host.alphaKey);
    var created = browsers(host.alphaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
    assertThat(created.getState()).isEqualTo(BrowserState.BROWSER_STATE_ACTIVE);
    assertThat(created.getProvider()).isEqualTo("local");
    assertThat(created.getBrowserId()).startsWith("brw_");
    String id = created.getBrowserId();

    // No network for browsers yet: the page does not load, and that is an answer, not an error.
    var nav = browsers(host.alphaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id)
        .setUrl("http://files.paddock.test/").build());
    assertThat(nav.getErrorText()).startsWith("net::ERR_");
    var shot = browsers(host.alphaKey).screenshot(ScreenshotRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
    assertThat(shot.getImage().toByteArray()).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    assertThat(shot.getWidth()).isEqualTo(1280);
    assertThat(browsers(host.alphaKey).listBrowsers(ListBrowsersRequest.newBuilder().setSessionId(session).build())
        .getBrowsersList()).extracting(b -> b.getBrowserId()).containsExactly(id);

    // Another tenant sees no such browser; a file: URL is refused.
    StatusRuntimeException foreign = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(host.betaKey)
        .getBrowser(GetBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id).build()));
    assertThat(foreign.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    StatusRuntimeException file = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(host.alphaKey)
        .navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id).setUrl("file:///etc/passwd").build()));
    assertThat(file.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    // The session's end is the browser's.
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    var after = browsers(host.alphaKey).getBrowser(GetBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
    assertThat(after.getState()).isEqualTo(BrowserState.BROWSER_STATE_CLOSED);
    assertThat(after.hasCloseTime()).isTrue();

    assertThat(Segments.readAll(host.dataDir.resolve("audit"))).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_BROWSER_CREATED
        && r.getTenant().equals("alpha")).isNotEmpty();
  }
}
