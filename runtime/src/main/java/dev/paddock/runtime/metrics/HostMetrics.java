package dev.paddock.runtime.metrics;

import dev.paddock.runtime.session.ExecAudit;
import dev.paddock.runtime.session.ExecRecord;
import dev.paddock.runtime.session.ExecSpec;
import dev.paddock.runtime.session.Session;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/**
 * The host's meters, in one Prometheus registry: sessions, execs by outcome and how long they
 * took, jail starts and their failures, IPC requests and violations, browser providers' breakers,
 * JVM and process meters, and (through {@link #grpcInterceptor}) every gRPC call by method and
 * status with its latency. Denials and the audit log register theirs here too. Tenant ids appear as a label only where the operator allowed it
 * ({@code tenantLabels}): with many tenants they multiply the series a Prometheus keeps.
 */
public final class HostMetrics implements AutoCloseable {
  /** The label value in place of a tenant id when tenant labels are off. */
  public static final String ANY_TENANT = "_all";
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final boolean tenantLabels;
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public HostMetrics(boolean tenantLabels) {
    this.tenantLabels = tenantLabels;
    registry.config().commonTags("service", "paddock");
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  /** The registry, for the host's other meters (denials, breakers, the audit log). */
  public MeterRegistry registry() {
    return registry;
  }

  /** The tenant label's value: the id when the operator allows it, else {@value #ANY_TENANT}. */
  public String tenant(String tenantId) {
    return tenantLabels ? tenantId : ANY_TENANT;
  }

  /** Every gRPC call, by service, method and status, with its latency (histogram buckets). */
  public io.grpc.ServerInterceptor grpcInterceptor() {
    return new io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor(registry,
        counter -> counter, timer -> timer.publishPercentileHistogram());
  }

  /** A session opened. */
  public void sessionOpened(Session session) {
    Counter.builder("paddock.sessions.opened").description("Sessions created")
        .tag("tenant", tenant(session.tenantId())).register(registry).increment();
  }

  /** A session closed, for why (its close reason). */
  public void sessionClosed(Session session) {
    Counter.builder("paddock.sessions.closed").description("Sessions closed, by why")
        .tag("tenant", tenant(session.tenantId())).tag("reason", String.valueOf(session.closeReason()))
        .register(registry).increment();
  }

  /** Counts execs as {@code audit} records them: started, and finished by outcome with their wall time. */
  public ExecAudit observe(ExecAudit audit) {
    return new ExecAudit() {
      @Override
      public void starting(Session session, String execId, ExecSpec spec) {
        audit.starting(session, execId, spec);
        Counter.builder("paddock.execs.started").description("Execs started")
            .tag("tenant", tenant(session.tenantId())).register(registry).increment();
      }

      @Override
      public void finished(Session session, ExecRecord record, ExecRecord.Outcome outcome) {
        audit.finished(session, record, outcome);
        String status = outcome.result().status().name();
        Counter.builder("paddock.execs.finished").description("Execs ended, by outcome")
            .tag("tenant", tenant(session.tenantId())).tag("status", status).register(registry).increment();
        dev.paddock.runtime.ipc.IpcSummary ipc = outcome.ipc();
        if (ipc != null && (ipc.requests() > 0 || ipc.violation() != null)) {
          String t = tenant(session.tenantId());
          Counter.builder("paddock.ipc.requests").description("IPC requests from tools inside jails")
              .tag("tenant", t).register(registry).increment(ipc.requests());
          Counter.builder("paddock.ipc.rejected").description("IPC requests refused (limits, policy, malformed)")
              .tag("tenant", t).register(registry).increment(ipc.rejected());
          if (ipc.violation() != null) {
            Counter.builder("paddock.ipc.violations").description("Execs whose IPC channel broke the protocol, by kind")
                .tag("tenant", t).tag("kind", ipc.violation().name()).register(registry).increment();
          }
        }
        if (record.endTime() != null) {
          Timer.builder("paddock.exec.duration").description("Wall time of an exec, from its start to its end")
              .tag("status", status).publishPercentileHistogram().register(registry)
              .record(Duration.between(record.startTime(), record.endTime()));
        }
      }

      @Override
      public void credentialUsed(Session session, String execId, String secret, String env) {
        audit.credentialUsed(session, execId, secret, env);
      }
    };
  }

  /**
   * {@code starter}, counting jail starts: a failure ({@code paddock.jail.start.failures}) and the
   * time a start took ({@code paddock.jail.start.duration}), the ready pool's starts included.
   */
  public dev.paddock.runtime.session.ReadyJails.Starter jailStarts(dev.paddock.runtime.session.ReadyJails.Starter starter) {
    Timer took = Timer.builder("paddock.jail.start.duration").description("Time to start a session's jail")
        .publishPercentileHistogram().register(registry);
    return (sessionId, tenantId, policy, workspace) -> {
      long t = System.nanoTime();
      try {
        return starter.start(sessionId, tenantId, policy, workspace);
      } catch (dev.paddock.sandbox.SandboxSetupException | RuntimeException e) {
        Counter.builder("paddock.jail.start.failures").description("Jails that did not start")
            .tag("tenant", tenant(tenantId)).register(registry).increment();
        throw e;
      } finally {
        took.record(System.nanoTime() - t, java.util.concurrent.TimeUnit.NANOSECONDS);
      }
    };
  }

  /** {@code paddock.jail.healthy}: 1 while the host's jail probe passes, 0 while it cannot jail. */
  public void jailHealth(java.util.function.BooleanSupplier healthy) {
    io.micrometer.core.instrument.Gauge.builder("paddock.jail.healthy", () -> healthy.getAsBoolean() ? 1 : 0)
        .description("1 while the host can start jails").register(registry);
  }

  /**
   * {@code paddock.browser.breaker.state} per provider: 0 closed, 1 open, 2 half-open, 3 another
   * state (disabled, forced open), as {@code state} names it; and its state changes so far.
   */
  public void breakers(java.util.List<String> providers, java.util.function.Function<String, String> state,
      java.util.function.ToLongFunction<String> transitions) {
    for (String provider : providers) {
      io.micrometer.core.instrument.FunctionCounter.builder("paddock.browser.breaker.transitions", provider,
          p -> (double) transitions.applyAsLong(p)).description("State changes of a browser provider's circuit breaker")
          .tag("provider", provider).register(registry);
      io.micrometer.core.instrument.Gauge.builder("paddock.browser.breaker.state", () -> switch (state.apply(provider)) {
        case "CLOSED" -> 0;
        case "OPEN" -> 1;
        case "HALF_OPEN" -> 2;
        default -> 3;
      }).description("Circuit breaker of a browser provider: 0 closed, 1 open, 2 half-open, 3 other")
          .tag("provider", provider).register(registry);
    }
  }

  /** The registry in Prometheus's text format. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
