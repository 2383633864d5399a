package dev.paddock.runtime.grpc;

import com.google.rpc.ErrorInfo;
import dev.paddock.runtime.tenant.Principal;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts every denied call, whoever denied it (authentication, a missing scope, a budget, a rate),
 * in the counter {@value #METER} tagged with the ErrorInfo reason and the tenant ("-" before
 * authentication), and logs it at a bounded rate (at most a line a second) so a flood of refusals
 * cannot flood the log. Sees the call's final status, so no refusal path can skip it.
 */
public final class Denials implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(Denials.class);
  /** The counter's name. */
  public static final String METER = "paddock.denials";
  private static final Set<Status.Code> DENIED = EnumSet.of(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED,
      Status.Code.RESOURCE_EXHAUSTED);

  /**
   * How long a refusal for a budget or a bad key is held before it is sent. A client that floods
   * (retrying at once, whatever the answer) then sends a few calls a second per connection thread
   * instead of thousands, so refusing it costs the host next to nothing; a client that honours
   * RetryInfo never notices.
   */
  static final long TARPIT_MILLIS = 250;
  private static final Set<Status.Code> TARPITTED = EnumSet.of(Status.Code.UNAUTHENTICATED, Status.Code.RESOURCE_EXHAUSTED);

  private final MeterRegistry registry;
  private final java.util.concurrent.ScheduledExecutorService timer;
  /** A line a second per tenant ("-" for unauthenticated calls): one flooder cannot hide the others. */
  private final java.util.Map<String, RateLimitedLog> lines = new java.util.concurrent.ConcurrentHashMap<>();

  public Denials(MeterRegistry registry) {
    this(registry, null);
  }

  /** With {@code timer}, refusals for budgets and bad keys are held {@value #TARPIT_MILLIS} ms on it. */
  public Denials(MeterRegistry registry, java.util.concurrent.ScheduledExecutorService timer) {
    this.registry = registry;
    this.timer = timer;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (DENIED.contains(status.getCode())) {
          record(status, trailers, call.getMethodDescriptor().getFullMethodName());
        }
        if (timer != null && TARPITTED.contains(status.getCode())) {
          try {
            timer.schedule(() -> super.close(status, trailers), TARPIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            return;
          } catch (java.util.concurrent.RejectedExecutionException e) {
            // shutting down: answer at once
          }
        }
        super.close(status, trailers);
      }
    }, headers);
  }

  private void record(Status status, Metadata trailers, String method) {
    String reason = status.getCode().name();
    com.google.rpc.Status details = StatusProto.fromStatusAndTrailers(status, trailers);
    if (details != null) {
      for (com.google.protobuf.Any any : details.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            reason = any.unpack(ErrorInfo.class).getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // keep the code as the reason
          }
        }
      }
    }
    Principal caller = AuthInterceptor.PRINCIPAL.get();
    String tenant = caller == null ? "-" : caller.tenantId();
    Counter.builder(METER).tag("reason", reason).tag("tenant", tenant).register(registry).increment();
    MeterRegistry exported = this.exported;
    if (exported != null) {
      Counter.builder(METER).description("Calls refused for a budget, a rate, a key or a policy, by reason")
          .tag("reason", reason).tag("tenant", exportedTenant.apply(tenant)).register(exported).increment();
    }
    lines.computeIfAbsent(tenant, t -> new RateLimitedLog(log, 1_000_000_000L, System::nanoTime))
        .info("denied {} for tenant {}: {} ({})", method, tenant, reason, status.getDescription());
  }

  private volatile MeterRegistry exported;
  private volatile java.util.function.UnaryOperator<String> exportedTenant = t -> t;

  /**
   * Also counts every denial in {@code registry} (the host's metrics), with the tenant label as
   * {@code tenantLabel} makes it (the operator may keep tenant ids out of metrics).
   */
  public void export(MeterRegistry registry, java.util.function.UnaryOperator<String> tenantLabel) {
    this.exportedTenant = tenantLabel;
    this.exported = registry;
  }

  /** Denials of {@code tenantId} so far, by reason. */
  public Map<String, Long> of(String tenantId) {
    Map<String, Long> out = new TreeMap<>();
    registry.find(METER).tag("tenant", tenantId).counters()
        .forEach(c -> out.merge(c.getId().getTag("reason"), (long) c.count(), Long::sum));
    return out;
  }
}
