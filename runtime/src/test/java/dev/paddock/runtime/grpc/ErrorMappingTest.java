package dev.paddock.runtime.grpc;

import dev.paddock.ipc.v1.ErrorReason;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.QuotaFailure;
import com.google.rpc.RequestInfo;
import com.google.rpc.RetryInfo;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.GetBrowserRequest;
import dev.paddock.ipc.v1.UpdateSessionLabelsRequest;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.errors.PaddockException.FieldViolation;
import io.grpc.Status;
import io.grpc.StatusException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every error reaches the client as a {@code google.rpc.Status}: the canonical code, ErrorInfo
 * (reason, domain paddock.dev, metadata) and RequestInfo always, and BadRequest, QuotaFailure or
 * RetryInfo where they apply.
 */
class ErrorMappingTest {
  @TempDir Path temp;
  InProcessHost host;

  @BeforeEach
  void start() throws Exception {
    host = new InProcessHost(temp);
  }

  @AfterEach
  void stop() throws Exception {
    host.close();
  }

  /** One example of each subclass, and the detail only it carries (null: none). */
  private record Case(PaddockException error, Status.Code code, Class<? extends com.google.protobuf.Message> extra) {}

  private static final List<Case> CASES = List.of(
      new Case(new PaddockException.InvalidArgument(List.of(new FieldViolation("argv", "is required"),
          new FieldViolation("cwd", "must be relative"))), Status.Code.INVALID_ARGUMENT, BadRequest.class),
      new Case(new PaddockException.NotFound(ErrorReason.SESSION_NOT_FOUND, "session not found", Map.of("sessionId", "ses_x")),
          Status.Code.NOT_FOUND, null),
      new Case(new PaddockException.Unauthenticated("no key"), Status.Code.UNAUTHENTICATED, null),
      new Case(new PaddockException.FailedPrecondition(ErrorReason.SESSION_CLOSED, "the session is closed", Map.of("closeReason", "CLIENT")),
          Status.Code.FAILED_PRECONDITION, null),
      new Case(new PaddockException.ResourceExhausted(ErrorReason.EXEC_LIMIT_EXCEEDED, "too many", "tenant:alpha", Map.of("maxExecs", "2")),
          Status.Code.RESOURCE_EXHAUSTED, QuotaFailure.class),
      new Case(new PaddockException.Unavailable(ErrorReason.HOST_SHUTTING_DOWN, "later", Duration.ofSeconds(3)),
          Status.Code.UNAVAILABLE, RetryInfo.class),
      new Case(new PaddockException.Unimplemented("ExecPty"), Status.Code.UNIMPLEMENTED, null),
      new Case(new PaddockException.AlreadyExists(ErrorReason.FILE_ALREADY_EXISTS, "exists", Map.of("path", "a")), Status.Code.ALREADY_EXISTS, null),
      new Case(new PaddockException.DeadlineExceeded("too slow"), Status.Code.DEADLINE_EXCEEDED, null),
      new Case(new PaddockException.Internal(ErrorReason.SANDBOX_SETUP_FAILED, "could not start", Map.of("stage", "jail"),
          new IllegalStateException("/host/path secret")), Status.Code.INTERNAL, null),
      new Case(new PaddockException.PermissionDenied("exec"), Status.Code.PERMISSION_DENIED, null));

  @Test
  void everySubclassMapsToItsCodeErrorInfoRequestInfoAndItsOwnDetail() throws Exception {
    Set<Class<?>> covered = CASES.stream().map(c -> c.error().getClass()).collect(Collectors.toSet());
    assertThat(covered).as("a case for every permitted subclass")
        .containsExactlyInAnyOrderElementsOf(Arrays.asList(PaddockException.class.getPermittedSubclasses()));

    List<Class<? extends com.google.protobuf.Message>> extras = List.of(BadRequest.class, QuotaFailure.class, RetryInfo.class);
    for (Case c : CASES) {
      StatusException e = ErrorMapper.toStatusException(c.error(), "req-1");
      InProcessHost.Failure f = InProcessHost.failure(e);
      assertThat(f.code()).as(c.error().getClass().getSimpleName()).isEqualTo(c.code());
      assertThat(e.getStatus().getCode()).isEqualTo(c.code());
      assertThat(f.message()).isEqualTo(c.error().getMessage());
      assertThat(f.info().getReason()).isEqualTo(c.error().reason().name());
      assertThat(f.info().getDomain()).isEqualTo("paddock.dev");
      assertThat(f.info().getMetadataMap()).isEqualTo(c.error().metadata());
      assertThat(f.requestId()).isEqualTo("req-1");
      for (Class<? extends com.google.protobuf.Message> extra : extras) {
        assertThat(f.has(extra))
            .as(c.error().getClass().getSimpleName() + " carries " + extra.getSimpleName())
            .isEqualTo(extra == c.extra());
      }
    }
    InProcessHost.Failure bad = InProcessHost.failure(ErrorMapper.toStatusException(CASES.get(0).error(), "r"));
    assertThat(bad.detail(BadRequest.class).getFieldViolationsList())
        .extracting(BadRequest.FieldViolation::getField).containsExactly("argv", "cwd");
    InProcessHost.Failure quota = InProcessHost.failure(ErrorMapper.toStatusException(CASES.get(4).error(), "r"));
    assertThat(quota.detail(QuotaFailure.class).getViolations(0).getSubject()).isEqualTo("tenant:alpha");
    InProcessHost.Failure retry = InProcessHost.failure(ErrorMapper.toStatusException(CASES.get(5).error(), "r"));
    assertThat(retry.detail(RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(3);
    InProcessHost.Failure internal = InProcessHost.failure(ErrorMapper.toStatusException(CASES.get(9).error(), "r"));
    assertThat(internal.message()).doesNotContain("/host/path");
  }

  @Test
  void anythingElseIsABareInternalThatQuotesTheRequestIdAndLeaksNothing() {
    InProcessHost.Failure f = InProcessHost.failure(
        ErrorMapper.toStatusException(new IllegalStateException("/var/lib/paddock/secret broke"), "req-7"));
    assertThat(f.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(f.info().getReason()).isEqualTo("INTERNAL");
    assertThat(f.message()).contains("req-7").doesNotContain("/var/lib", "secret");
    assertThat(f.requestId()).isEqualTo("req-7");
  }

  // ---- over the wire: the service stack, the interceptors and the transport keep the details ----

  @Test
  void invalidArgumentCarriesBadRequestAndTheCallersRequestId() {
    String session = host.newSession(host.alphaKey);
    var stub = dev.paddock.ipc.v1.ExecServiceGrpc.newBlockingStub(host.channel(host.alphaKey, "trace-42"));
    InProcessHost.Failure f = InProcessHost.fail(() -> stub.startExec(ExecRequest.newBuilder().setSessionId(session).build()));
    assertThat(f.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(f.info().getReason()).isEqualTo("INVALID_ARGUMENT");
    assertThat(f.info().getMetadataMap()).containsEntry("field", "argv");
    assertThat(f.detail(BadRequest.class).getFieldViolations(0).getField()).isEqualTo("argv");
    assertThat(f.requestId()).isEqualTo("trace-42");
  }

  @Test
  void notFoundNamesOnlyTheCallersOwnInput() {
    InProcessHost.Failure f = InProcessHost.fail(() -> host.sessions(host.alphaKey)
        .getSession(GetSessionRequest.newBuilder().setSessionId("ses_nope").build()));
    assertThat(f.code()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(f.info().getReason()).isEqualTo("SESSION_NOT_FOUND");
    assertThat(f.info().getMetadataMap()).isEqualTo(Map.of("sessionId", "ses_nope"));
    assertThat(f.requestId()).matches("req_[0-9a-f]{32}");
  }

  @Test
  void unauthenticatedBeforeAnyServiceRunsStillHasARequestId() {
    for (String key : new String[] {null, "pdk_0000000000000000_wrong", host.alphaKey + "x"}) {
      InProcessHost.Failure f = InProcessHost.fail(() -> host.sessions(key).createSession(CreateSessionRequest.getDefaultInstance()));
      assertThat(f.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(f.info().getReason()).isEqualTo("UNAUTHENTICATED_API_KEY");
      assertThat(f.info().getDomain()).isEqualTo("paddock.dev");
      assertThat(f.requestId()).matches("req_[0-9a-f]{32}");
    }
    assertThat(host.launcher.jails()).as("no jail was started for an unauthenticated caller").isEmpty();
  }

  @Test
  void failedPreconditionForAClosedSessionSaysWhyItClosed() {
    String session = host.newSession(host.alphaKey);
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    InProcessHost.Failure f = InProcessHost.fail(() -> host.exec(host.alphaKey, session, "true"));
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo("SESSION_CLOSED");
    assertThat(f.info().getMetadataMap()).containsEntry("sessionId", session).containsEntry("closeReason", "CLIENT");
  }

  @Test
  void aJailThatCannotStartIsInternalThenTheGateRefusesWithFailedPrecondition() {
    host.launcher.failStarts("nsjail is not installed on this host");
    host.launcher.failProbe("nsjail is not installed on this host");
    InProcessHost.Failure first = InProcessHost.fail(() -> host.newSession(host.alphaKey));
    assertThat(first.code()).isEqualTo(Status.Code.INTERNAL);
    assertThat(first.info().getReason()).isEqualTo("SANDBOX_SETUP_FAILED");
    assertThat(first.info().getMetadataMap()).isEqualTo(Map.of("stage", "jail"));

    // the failure made the gate re-probe, and the probe fails too: refused before any start
    int starts = host.launcher.starts();
    InProcessHost.Failure next = InProcessHost.fail(() -> host.newSession(host.alphaKey));
    assertThat(next.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(next.info().getReason()).isEqualTo("JAIL_UNAVAILABLE");
    assertThat(next.message()).contains("nsjail is not installed");
    assertThat(host.launcher.starts()).isEqualTo(starts);
  }

  @Test
  void resourceExhaustedCarriesQuotaFailure() {
    host.newSession(host.gammaKey);
    host.newSession(host.gammaKey);
    InProcessHost.Failure f = InProcessHost.fail(() -> host.newSession(host.gammaKey));
    assertThat(f.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(f.info().getReason()).isEqualTo("SESSION_LIMIT_EXCEEDED");
    assertThat(f.detail(QuotaFailure.class).getViolations(0).getSubject()).isEqualTo("tenant:gamma");
  }

  @Test
  void unavailableWhileShuttingDownCarriesRetryInfo() {
    host.sessions.closeAll();
    InProcessHost.Failure f = InProcessHost.fail(() -> host.newSession(host.alphaKey));
    assertThat(f.code()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(f.info().getReason()).isEqualTo("HOST_SHUTTING_DOWN");
    assertThat(f.detail(RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(1);
    assertThat(host.launcher.jails()).allSatisfy(j -> assertThat(j.alive()).isFalse());
  }

  @Test
  void unimplementedNamesTheMethodInBothKindsOfUnbuiltRpc() {
    String session = host.newSession(host.alphaKey);
    InProcessHost.Failure labels = InProcessHost.fail(() -> host.sessions(host.alphaKey)
        .updateSessionLabels(UpdateSessionLabelsRequest.newBuilder().setSessionId(session).build()));
    InProcessHost.Failure browser = InProcessHost.fail(() -> BrowserServiceGrpc.newBlockingStub(host.channel(host.alphaKey, null))
        .getBrowser(GetBrowserRequest.getDefaultInstance()));
    Map<String, InProcessHost.Failure> byMethod = new LinkedHashMap<>();
    byMethod.put("UpdateSessionLabels", labels);
    byMethod.put("GetBrowser", browser);
    byMethod.forEach((method, f) -> {
      assertThat(f.code()).isEqualTo(Status.Code.UNIMPLEMENTED);
      assertThat(f.info().getReason()).isEqualTo("NOT_IMPLEMENTED");
      assertThat(f.info().getMetadataMap()).isEqualTo(Map.of("method", method));
      assertThat(f.has(RequestInfo.class)).isTrue();
    });
    // an unbuilt service still authenticates first
    InProcessHost.Failure anonymous = InProcessHost.fail(() -> BrowserServiceGrpc.newBlockingStub(host.channel(null, null))
        .getBrowser(GetBrowserRequest.getDefaultInstance()));
    assertThat(anonymous.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(anonymous.has(ErrorInfo.class)).isTrue();
  }
}
