package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many client threads against a real host: no tenant gets past a concurrency or rate budget by
 * even one, and every refusal is the typed one.
 */
class BudgetHammerEndToEndTest extends SharedHostTest {
  private static final int THREADS = 16;

  /** Runs {@code attempts} calls from {@link #THREADS} threads released at once; counts outcomes by reason. */
  private Map<String, Integer> hammer(int attempts, Runnable call) throws Exception {
    Map<String, Integer> outcomes = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger left = new AtomicInteger(attempts);
    for (int t = 0; t < THREADS; t++) {
      pool.execute(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        while (left.getAndDecrement() > 0) {
          String outcome;
          try {
            call.run();
            outcome = "OK";
          } catch (StatusRuntimeException e) {
            TestHost.Failure f;
            try {
              f = TestHost.failure(e);
            } catch (Exception x) {
              throw new IllegalStateException(x);
            }
            outcome = e.getStatus().getCode() + "/" + (f.info() == null ? "-" : f.info().getReason());
          }
          outcomes.merge(outcome, 1, Integer::sum);
        }
      });
    }
    go.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
    return outcomes;
  }

  @Test
  void concurrencyBudgetsHoldExactly() throws Exception {
    // gamma: 2 open sessions, 2 running execs.
    List<String> created = new java.util.concurrent.CopyOnWriteArrayList<>();
    Map<String, Integer> sessions = hammer(40, () -> created.add(host.newSession(host.gammaKey)));
    assertThat(sessions).containsEntry("OK", 2)
        .containsEntry(Status.Code.RESOURCE_EXHAUSTED + "/SESSION_LIMIT_EXCEEDED", 38).hasSize(2);

    AtomicInteger turn = new AtomicInteger();
    Map<String, Integer> execs = hammer(40, () -> host.execs(host.gammaKey).startExec(ExecRequest.newBuilder()
        .setSessionId(created.get(turn.getAndIncrement() % 2)).addAllArgv(List.of("sleep", "10")).build()));
    assertThat(execs).containsEntry("OK", 2)
        .containsEntry(Status.Code.RESOURCE_EXHAUSTED + "/EXEC_LIMIT_EXCEEDED", 38).hasSize(2);
    created.forEach(id -> host.sessions(host.gammaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(id).build()));
  }

  @Test
  void rateBudgetsHoldExactlyAndSayWhenToRetry() throws Exception {
    // epsilon: 12 sessions and 40 execs a minute.
    String session = host.newSession(host.epsilonKey);
    Map<String, Integer> sessions = hammer(40, () -> {
      String id = host.newSession(host.epsilonKey);
      host.sessions(host.epsilonKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(id).build());
    });
    assertThat(sessions).containsEntry("OK", TestHost.EPSILON_SESSIONS_PER_MINUTE - 1)
        .containsEntry(Status.Code.RESOURCE_EXHAUSTED + "/RATE_LIMITED", 40 - (TestHost.EPSILON_SESSIONS_PER_MINUTE - 1))
        .hasSize(2);

    Map<String, Integer> execs = hammer(100, () -> {
      TestHost.Outcome o = host.exec(host.epsilonKey, session, "true");
      assertThat(o.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    });
    assertThat(execs).containsEntry("OK", TestHost.EPSILON_EXECS_PER_MINUTE)
        .containsEntry(Status.Code.RESOURCE_EXHAUSTED + "/RATE_LIMITED", 100 - TestHost.EPSILON_EXECS_PER_MINUTE)
        .hasSize(2);

    StatusRuntimeException refused = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
        () -> host.sessions(host.epsilonKey).createSession(CreateSessionRequest.getDefaultInstance()));
    TestHost.Failure f = TestHost.failure(refused);
    assertThat(f.info().getMetadataMap()).containsEntry("limit", "12").containsEntry("window", "60s")
        .containsEntry("scope", "sessions");
    com.google.rpc.RetryInfo retry = com.google.rpc.RetryInfo.getDefaultInstance();
    for (com.google.protobuf.Any d : com.google.rpc.Status.parseFrom(
        io.grpc.protobuf.StatusProto.fromThrowable(refused).toByteArray()).getDetailsList()) {
      if (d.is(com.google.rpc.RetryInfo.class)) {
        retry = d.unpack(com.google.rpc.RetryInfo.class);
      }
    }
    assertThat(retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000)
        .isBetween(1L, 60_000L);
    // Another tenant is not touched by epsilon's rates.
    assertThat(host.exec(host.alphaKey, host.newSession(host.alphaKey), "echo", "fine").out()).isEqualTo("fine\n");
  }

  @Test
  void usageShowsEveryBudgetOwnTenantOnlyWithoutAdmin() throws Exception {
    String session = host.newSession(host.deltaKey);
    var tenants = dev.paddock.ipc.v1.TenantServiceGrpc.newBlockingStub(host.channel(host.deltaKey, null));
    dev.paddock.ipc.v1.TenantUsage usage = tenants.getTenantUsage(dev.paddock.ipc.v1.GetTenantUsageRequest.getDefaultInstance());
    assertThat(usage.getTenantId()).isEqualTo("delta");
    Map<String, dev.paddock.ipc.v1.BudgetUsage> byName = new java.util.HashMap<>();
    usage.getBudgetsList().forEach(b -> byName.put(b.getName(), b));
    assertThat(usage.getBudgetsList()).extracting(dev.paddock.ipc.v1.BudgetUsage::getName).containsExactly("open_sessions", "running_execs", "sessions_per_minute",
        "execs_per_minute", "memory_bytes", "processes", "cpu_millicores", "egress_connections", "egress_bytes_per_second", "open_browsers",
        "browser_minutes_today");
    assertThat(byName.get("open_sessions").getUsed()).isGreaterThanOrEqualTo(1);
    assertThat(byName.get("memory_bytes").getLimit()).isEqualTo(TestHost.DELTA_MEMORY);
    assertThat(byName.get("memory_bytes").getUsed()).isPositive().isLessThanOrEqualTo(TestHost.DELTA_MEMORY);
    assertThat(byName.get("processes").getLimit()).isEqualTo(TestHost.DELTA_PROCESSES);
    assertThat(byName.get("processes").getUsed()).isGreaterThanOrEqualTo(2); // the session's nsjail and init
    assertThat(byName.get("memory_bytes").getEnforcedBy()).isEqualTo("kernel");

    StatusRuntimeException other = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
        () -> tenants.getTenantUsage(dev.paddock.ipc.v1.GetTenantUsageRequest.newBuilder().setTenantId("alpha").build()));
    assertThat(other.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(TestHost.failure(other).info().getMetadataMap()).containsEntry("requiredScope", "admin");
    // Every denial is counted, by reason, for its tenant.
    assertThat(tenants.getTenantUsage(dev.paddock.ipc.v1.GetTenantUsageRequest.getDefaultInstance()).getDenialsList())
        .anySatisfy(d -> {
          assertThat(d.getReason()).isEqualTo("PERMISSION_DENIED_SCOPE");
          assertThat(d.getCount()).isGreaterThanOrEqualTo(1);
        });
    host.sessions(host.deltaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
  }

  @Test
  void aTenantsLifetimeAndOutputCapsHold() throws Exception {
    var sessions = host.sessions(host.zetaKey);
    StatusRuntimeException tooLong = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
        () -> sessions.createSession(CreateSessionRequest.newBuilder()
            .setMaxLifetime(com.google.protobuf.util.Durations.fromSeconds(3600)).build()));
    assertThat(tooLong.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(TestHost.failure(tooLong).info().getMetadataMap()).containsEntry("field", "max_lifetime");

    dev.paddock.ipc.v1.Session s = sessions.createSession(CreateSessionRequest.getDefaultInstance());
    long lifetime = s.getExpireTime().getSeconds() - s.getCreateTime().getSeconds();
    assertThat(lifetime).isEqualTo(1800); // the host's default of 1 h, cut to the tenant's 30 min

    TestHost.Outcome big = host.exec(host.zetaKey, s.getSessionId(), "head", "-c", "4096", "/dev/zero");
    assertThat(big.stdout()).hasSize(1024);
    assertThat(big.result().getOutputTruncated()).isTrue();
    assertThat(big.result().getUsage().getStdoutBytes()).isEqualTo(4096);
  }
}
