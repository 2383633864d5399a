package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.Session;
import dev.paddock.ipc.v1.SessionCloseReason;
import dev.paddock.ipc.v1.SessionState;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sessions are reaped after their idle timeout and their maximum lifetime, workspace and all. */
class SessionLifecycleTest {
  @TempDir Path temp;

  @Test
  void idleAndExpiredSessionsAreClosedAndCleanedUp() throws Exception {
    try (TestHost host = new TestHost(temp)) {
      Session idle = host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
          .setIdleTimeout(Duration.newBuilder().setSeconds(1)).build());
      Session shortLived = host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
          .setMaxLifetime(Duration.newBuilder().setSeconds(2)).build());
      assertThat(idle.getState()).isEqualTo(SessionState.SESSION_STATE_ACTIVE);
      assertThat(idle.getIdleDeadline().getSeconds()).isLessThanOrEqualTo(idle.getCreateTime().getSeconds() + 1);
      // keep the short-lived one busy: activity does not extend a lifetime
      for (int i = 0; i < 3; i++) {
        host.exec(host.alphaKey, shortLived.getSessionId(), "true");
        Thread.sleep(400);
      }
      Thread.sleep(2500);
      Session idleNow = host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(idle.getSessionId()).build());
      assertThat(idleNow.getState()).isEqualTo(SessionState.SESSION_STATE_CLOSED);
      assertThat(idleNow.getCloseReason()).isEqualTo(SessionCloseReason.SESSION_CLOSE_REASON_IDLE_TIMEOUT);
      Session expired = host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(shortLived.getSessionId()).build());
      assertThat(expired.getCloseReason()).isEqualTo(SessionCloseReason.SESSION_CLOSE_REASON_MAX_LIFETIME);
      TestHost.awaitGone(host.dataDir.resolve("workspaces").resolve(idle.getSessionId()));
      TestHost.awaitGone(host.dataDir.resolve("workspaces").resolve(shortLived.getSessionId()));
      assertThat(host.dataDir.resolve("workspaces").resolve(idle.getSessionId())).doesNotExist();
      assertThat(host.dataDir.resolve("workspaces").resolve(shortLived.getSessionId())).doesNotExist();
      assertThat(Path.of("/sys/fs/cgroup/memory/paddock/t-alpha").resolve(shortLived.getSessionId())).doesNotExist();
    }
  }
}
