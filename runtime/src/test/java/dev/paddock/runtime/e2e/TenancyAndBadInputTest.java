package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Duration;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.ResourceLimits;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.Ids;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Tenancy, authentication and bad input, each refused with a typed, safe error while the host keeps serving. */
class TenancyAndBadInputTest extends SharedHostTest {
  @Test
  void anotherTenantsSessionIsIndistinguishableFromOneThatNeverExisted() throws Exception {
    String alphas = host.newSession(host.alphaKey);
    String neverExisted = Ids.newId("ses");
    for (String id : List.of(alphas, neverExisted)) {
      TestHost.Failure get = fail(() -> host.sessions(host.betaKey).getSession(GetSessionRequest.newBuilder().setSessionId(id).build()));
      TestHost.Failure exec = fail(() -> host.exec(host.betaKey, id, "echo", "pwned"));
      TestHost.Failure close = fail(() -> host.sessions(host.betaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(id).build()));
      for (TestHost.Failure f : List.of(get, exec, close)) {
        assertThat(f.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(f.message()).isEqualTo("session not found");
        assertThat(f.info().getReason()).isEqualTo("SESSION_NOT_FOUND");
        assertThat(f.info().getDomain()).isEqualTo("paddock.dev");
        assertThat(f.info().getMetadataMap()).containsOnlyKeys("sessionId").containsEntry("sessionId", id);
        assertThat(f.request().getRequestId()).isNotEmpty();
      }
    }
    // beta's list does not show it; alpha's session is untouched and still works
    assertThat(host.sessions(host.betaKey).listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList())
        .noneMatch(s -> s.getSessionId().equals(alphas));
    assertThat(host.exec(host.alphaKey, alphas, "echo", "still mine").out()).isEqualTo("still mine\n");
  }

  @Test
  void missingOrWrongKeyIsUnauthenticatedWithARequestId() throws Exception {
    for (String key : new String[] {null, "pdk_0000000000000000_wrong", host.alphaKey + "x", ""}) {
      TestHost.Failure f = fail(() -> host.sessions(key).createSession(CreateSessionRequest.getDefaultInstance()));
      assertThat(f.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(f.info().getReason()).isEqualTo("UNAUTHENTICATED_API_KEY");
      assertThat(f.request().getRequestId()).matches("req_[0-9a-f]{32}");
    }
  }

  @Test
  void aKeyWithoutTheScopeIsDeniedNamingItAndARevokedKeyStopsWithinASecond() throws Exception {
    var admin = new dev.paddock.runtime.tenant.TenantAdmin(host.dataDir.resolve("tenants.yaml"), java.time.Clock.systemUTC());
    var sessionsOnly = admin.createKey("alpha", "sessions-only-" + System.nanoTime(),
        java.util.EnumSet.of(dev.paddock.runtime.tenant.Scope.SESSIONS));
    Thread.sleep(600); // the host re-reads the tenants file at most twice a second
    String session = host.newSession(sessionsOnly.key());
    TestHost.Failure denied = fail(() -> host.exec(sessionsOnly.key(), session, "true"));
    assertThat(denied.code()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(denied.info().getReason()).isEqualTo("PERMISSION_DENIED_SCOPE");
    assertThat(denied.info().getMetadataMap()).containsEntry("requiredScope", "exec");
    assertThat(denied.request().getRequestId()).matches("req_[0-9a-f]{32}");
    // The tenant's default key may exec in the session the scoped key made.
    assertThat(host.exec(host.alphaKey, session, "echo", "ok").out()).isEqualTo("ok\n");

    admin.revokeKey("alpha", sessionsOnly.keyId());
    long revoked = System.nanoTime();
    while (true) {
      try {
        host.sessions(sessionsOnly.key()).getSession(GetSessionRequest.newBuilder().setSessionId(session).build());
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        break;
      }
      assertThat(System.nanoTime() - revoked).as("the revoked key still works").isLessThan(1_000_000_000L);
      Thread.sleep(20);
    }
  }

  @Test
  void aRevokedKeysOpenExecStreamEndsAndItsExecIsKilled() throws Exception {
    var admin = new dev.paddock.runtime.tenant.TenantAdmin(host.dataDir.resolve("tenants.yaml"), java.time.Clock.systemUTC());
    var key = admin.createKey("alpha", "streamer-" + System.nanoTime(), null);
    Thread.sleep(600);
    String session = host.newSession(key.key());
    var events = host.execs(key.key()).exec(ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sleep", "30")).build());
    String exec = events.next().getStarted().getExecId();
    admin.revokeKey("alpha", key.keyId());
    long revoked = System.nanoTime();
    StatusRuntimeException ended = catchThrowableOfType(StatusRuntimeException.class, () -> {
      while (events.hasNext()) {
        events.next();
      }
    });
    assertThat(ended).as("the stream should end").isNotNull();
    assertThat(ended.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(System.nanoTime() - revoked).isLessThan(3_000_000_000L);
    var info = host.execs(host.alphaKey).getExec(dev.paddock.ipc.v1.GetExecRequest.newBuilder().setSessionId(session)
        .setExecId(exec).build());
    for (int i = 0; i < 50 && info.getState() != dev.paddock.ipc.v1.ExecState.EXEC_STATE_FINISHED; i++) {
      Thread.sleep(100);
      info = host.execs(host.alphaKey).getExec(dev.paddock.ipc.v1.GetExecRequest.newBuilder().setSessionId(session)
          .setExecId(exec).build());
    }
    assertThat(info.getResult().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_KILLED);
    assertThat(info.getResult().getReason()).contains("revoked");
  }

  @Test
  void aHostSettingChangedInTheFileHoldsForTheNextExecs() throws Exception {
    java.nio.file.Path file = host.dataDir.resolve("tenants.yaml");
    String good = java.nio.file.Files.readString(file);
    String session = host.newSession(host.alphaKey);
    ExecRequest minute = ExecRequest.newBuilder().setSessionId(session).addArgv("true")
        .setTimeLimit(Duration.newBuilder().setSeconds(60)).build();
    try {
      java.nio.file.Files.writeString(file, good + "host:\n  defaultExecTimeout: 20s\n  maxExecTimeout: 30s\n");
      TestHost.Failure refused = null;
      for (int i = 0; i < 30 && refused == null; i++) {
        Thread.sleep(100);
        try {
          host.exec(host.alphaKey, minute);
        } catch (StatusRuntimeException e) {
          refused = TestHost.failure(e);
        }
      }
      assertThat(refused).as("a 60 s exec refused once the ceiling is 30 s").isNotNull();
      assertThat(refused.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(refused.info().getMetadataMap()).containsEntry("field", "time_limit");
    } finally {
      java.nio.file.Files.writeString(file, good);
    }
    for (int i = 0; i < 30; i++) {
      Thread.sleep(100);
      try {
        assertThat(host.exec(host.alphaKey, minute).result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
        return;
      } catch (StatusRuntimeException e) {
        // the old ceiling until the host has re-read the file
      }
    }
    throw new AssertionError("the restored file did not lift the ceiling again");
  }

  @Test
  void aTenantsFileWithThreeErrorsIsRefusedWhileTheHostKeepsTheLastGoodOne() throws Exception {
    java.nio.file.Path file = host.dataDir.resolve("tenants.yaml");
    String good = java.nio.file.Files.readString(file);
    try {
      // Three mistakes in a hand edit, and a revocation that must not land with them.
      String bad = good.replaceFirst("maxSessions: 100", "maxSessions: lots").replaceFirst("- id: \"alpha\"",
          "- id: \"alpha\"\n  colour: blue").replaceFirst("tenants:", "tenants:\n- id: Bad_Tenant");
      java.nio.file.Files.writeString(file, bad);
      assertThat(dev.paddock.runtime.tenant.TenantsFile.check(file)).hasSize(3)
          .allMatch(p -> p.matches(java.util.regex.Pattern.quote(file.toString()) + ":\\d+: .*"));
      Thread.sleep(600);
      assertThat(host.newSession(host.alphaKey)).startsWith("ses_"); // the last good file holds
    } finally {
      java.nio.file.Files.writeString(file, good);
    }
  }

  @Test
  void refusalsForBadKeysAndBudgetsAreHeldSoAFloodCostsLittle() throws Exception {
    long t0 = System.nanoTime();
    TestHost.Failure f = fail(() -> host.sessions("pdk_0000000000000000_wrong").createSession(CreateSessionRequest.getDefaultInstance()));
    long held = System.nanoTime() - t0;
    assertThat(f.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(held).isGreaterThanOrEqualTo(240_000_000L);
    // A refused call of another kind (not found) is answered at once.
    long t1 = System.nanoTime();
    fail(() -> host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(Ids.newId("ses")).build()));
    assertThat(System.nanoTime() - t1).isLessThan(240_000_000L);
  }

  @Test
  void aCallersRequestIdComesBackInTrailersAndErrors() throws Exception {
    SessionServiceGrpc.SessionServiceBlockingStub stub =
        SessionServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "trace-abc.123"));
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> stub.getSession(GetSessionRequest.newBuilder().setSessionId(Ids.newId("ses")).build()));
    assertThat(TestHost.failure(e).request().getRequestId()).isEqualTo("trace-abc.123");
    assertThat(e.getTrailers().get(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("trace-abc.123");

    // a successful call carries it in its trailers too
    java.util.concurrent.atomic.AtomicReference<Metadata> trailers = new java.util.concurrent.atomic.AtomicReference<>();
    SessionServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "trace-ok"))
        .withInterceptors(io.grpc.stub.MetadataUtils.newCaptureMetadataInterceptor(
            new java.util.concurrent.atomic.AtomicReference<>(), trailers))
        .listSessions(ListSessionsRequest.getDefaultInstance());
    assertThat(trailers.get().get(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("trace-ok");
  }

  @Test
  void badInputGetsAReasonAndTheHostKeepsServing() throws Exception {
    String session = host.newSession(host.alphaKey);
    Consumer<ExecRequest.Builder> none = b -> {};
    // empty command
    TestHost.Failure empty = fail(() -> host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session).build()));
    assertThat(empty.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(empty.badRequest().getFieldViolations(0).getField()).isEqualTo("argv");
    // a 10 MB argument
    TestHost.Failure huge = fail(() -> host.exec(host.alphaKey, session, "echo", "x".repeat(10 * 1024 * 1024)));
    assertThat(huge.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(huge.badRequest().getFieldViolations(0).getDescription()).contains("at most 262144 bytes");
    assertThat(huge.info().getReason()).isEqualTo("PAYLOAD_TOO_LARGE");
    assertThat(huge.info().getMetadataMap()).containsEntry("field", "argv").containsEntry("limitBytes", "262144");
    assertThat(empty.info().getMetadataMap()).containsEntry("field", "argv");
    // unknown and malformed session ids
    assertThat(fail(() -> host.exec(host.alphaKey, Ids.newId("ses"), "true")).code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(fail(() -> host.exec(host.alphaKey, "../../etc/passwd", "true")).code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(fail(() -> host.exec(host.alphaKey, "", "true")).code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    // a negative time limit
    TestHost.Failure negative = fail(() -> host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session)
        .addArgv("true").setTimeLimit(Duration.newBuilder().setSeconds(-5)).build()));
    assertThat(negative.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(negative.badRequest().getFieldViolations(0).getField()).isEqualTo("time_limit");
    // an absolute cwd, limits above the ceiling, a bad env name
    assertThat(fail(() -> host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session)
        .addArgv("true").setCwd("/etc").build())).code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(fail(() -> host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
        .setLimits(ResourceLimits.newBuilder().setMemoryBytes(1L << 50)).build())).code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(fail(() -> host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session)
        .addArgv("true").putEnv("BAD-NAME", "v").build())).code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    // a message above the transport limit is refused, not fatal
    assertThat(fail(() -> host.exec(host.alphaKey, session, "echo", "y".repeat(20 * 1024 * 1024))).code())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    // and everyone is still served
    TestHost.Outcome ok = host.exec(host.alphaKey, session, "echo", "fine");
    assertThat(ok.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(ok.out()).isEqualTo("fine\n");
    assertThat(host.exec(host.betaKey, host.newSession(host.betaKey), "echo", "b").out()).isEqualTo("b\n");
  }

  @Test
  void aClosedSessionRefusesExecsWithItsCloseReason() throws Exception {
    String session = host.newSession(host.alphaKey);
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    TestHost.Failure f = fail(() -> host.exec(host.alphaKey, session, "true"));
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo("SESSION_CLOSED");
    assertThat(f.info().getMetadataMap()).containsEntry("sessionId", session).containsEntry("closeReason", "CLIENT");
  }

  @Test
  void errorsCarryNoHostPaths() throws Exception {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome run = host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session)
        .addArgv("true").setCwd("does/not/exist").build());
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_SETUP_ERROR);
    assertThat(run.result().getReason()).doesNotContain(host.dataDir.toString()).doesNotContain("/work").doesNotContain("nsjail.log");
  }

  @Test
  void aTenantsOpenSessionsAndRunningExecsAreCapped() throws Exception {
    String one = host.newSession(host.gammaKey);
    String two = host.newSession(host.gammaKey);
    TestHost.Failure third = fail(() -> host.newSession(host.gammaKey));
    assertThat(third.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(third.info().getReason()).isEqualTo("SESSION_LIMIT_EXCEEDED");
    assertThat(third.info().getMetadataMap()).containsEntry("maxSessions", "2");

    List<java.util.concurrent.CompletableFuture<TestHost.Outcome>> running = List.of(
        java.util.concurrent.CompletableFuture.supplyAsync(() -> host.exec(host.gammaKey, one, "sleep", "2")),
        java.util.concurrent.CompletableFuture.supplyAsync(() -> host.exec(host.gammaKey, two, "sleep", "2")));
    Thread.sleep(700);
    TestHost.Failure busy = fail(() -> host.exec(host.gammaKey, one, "true"));
    assertThat(busy.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(busy.info().getReason()).isEqualTo("EXEC_LIMIT_EXCEEDED");
    assertThat(busy.info().getMetadataMap()).containsEntry("maxExecs", "2").containsEntry("scope", "tenant");
    // another tenant is not held back, and the quota frees up as execs end
    assertThat(host.exec(host.betaKey, host.newSession(host.betaKey), "echo", "free").out()).isEqualTo("free\n");
    for (var r : running) {
      assertThat(r.get().result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    }
    assertThat(host.exec(host.gammaKey, one, "echo", "again").out()).isEqualTo("again\n");
    host.sessions(host.gammaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(two).build());
    assertThat(host.newSession(host.gammaKey)).startsWith("ses_");
  }

  @Test
  void listingPagesThroughTheCallersOwnSessions() throws Exception {
    // listing pages through the caller's sessions only
    String a1 = host.newSession(host.betaKey);
    String a2 = host.newSession(host.betaKey);
    var first = host.sessions(host.betaKey).listSessions(ListSessionsRequest.newBuilder().setPageSize(1).build());
    assertThat(first.getSessionsCount()).isEqualTo(1);
    assertThat(first.getNextPageToken()).isNotEmpty();
    var rest = host.sessions(host.betaKey).listSessions(
        ListSessionsRequest.newBuilder().setPageSize(1000).setPageToken(first.getNextPageToken()).build());
    assertThat(rest.getSessionsList()).extracting(s -> s.getSessionId()).doesNotContain(first.getSessions(0).getSessionId());
    assertThat(List.of(a1, a2)).allMatch(id -> id.matches("ses_[0-9a-f]{32}"));
    assertThat(fail(() -> host.sessions(host.betaKey).listSessions(ListSessionsRequest.newBuilder().setPageToken("garbage!").build())).code())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  private static TestHost.Failure fail(Runnable call) throws Exception {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("the call should have failed").isNotNull();
    return TestHost.failure(e);
  }

}
