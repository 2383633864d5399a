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
 * took, JVM and process meters, and (through {@link #grpcInterceptor}) every gRPC call by method
 * and status with its latency. Tenant ids appear as a label only where the operator allowed it
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
