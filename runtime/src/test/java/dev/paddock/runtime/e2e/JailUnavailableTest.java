package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.sandbox.JailRequirement;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Without a working jail the host refuses sessions with FAILED_PRECONDITION, and nothing runs. */
class JailUnavailableTest {
  @TempDir Path temp;

  @Test
  void missingNsjailRefusesSessions() throws Exception {
    JailRequirement.nsjail(); // these tests are about Linux hosts too
    try (TestHost host = new TestHost(temp, temp.resolve("no-such-nsjail"), SessionSettings.defaults())) {
      assertRefused(host);
    }
  }

  @Test
  void brokenNsjailRefusesSessionsAndRunsNothing() throws Exception {
    JailRequirement.nsjail();
    Path marker = temp.resolve("ran");
    Path fake = temp.resolve("broken-nsjail");
    // An "nsjail" that records being called and fails, as a corrupt install would.
    Files.writeString(fake, "#!/bin/sh\necho called >> " + marker + "\nexit 1\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (TestHost host = new TestHost(temp, fake, SessionSettings.defaults())) {
      assertRefused(host);
      // only the host's own probes reached it; no session exists to run anything in
      assertThat(Files.readAllLines(marker)).isNotEmpty();
    }
  }

  private static void assertRefused(TestHost host) throws Exception {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> host.sessions(host.alphaKey).createSession(CreateSessionRequest.getDefaultInstance()));
    TestHost.Failure f = TestHost.failure(e);
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo("JAIL_UNAVAILABLE");
    assertThat(f.message()).contains("no working sandbox");
    assertThat(f.request().getRequestId()).isNotEmpty();
    HealthCheckResponse health = HealthGrpc.newBlockingStub(host.channel(null, null)).check(HealthCheckRequest.getDefaultInstance());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
  }
}
