package dev.paddock.runtime.session;

import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.tenant.Tenant;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's session-creation and exec rates: resilience4j rate limiters of N permits a minute
 * (so tiers such as 60 / 600 / 6,000 a minute are one number each), asked without waiting. A call
 * over the rate is refused before any work starts: RESOURCE_EXHAUSTED / RATE_LIMITED, with
 * QuotaFailure and RetryInfo saying when the next minute's permits come. A changed rate in the
 * tenants file takes effect with a fresh minute.
 */
final class TenantRates {
  private static final Duration WINDOW = Duration.ofMinutes(1);

  private record Limiter(int perMinute, RateLimiter limiter) {}

  private final Map<String, Limiter> sessions = new ConcurrentHashMap<>();
  private final Map<String, Limiter> execs = new ConcurrentHashMap<>();

  /** Takes a permit to create a session, or refuses. */
  void admitSession(Tenant tenant) {
    admit(sessions, tenant, tenant.sessionsPerMinute(), "sessions");
  }

  /** Takes a permit to start an exec, or refuses. */
  void admitExec(Tenant tenant) {
    admit(execs, tenant, tenant.execsPerMinute(), "execs");
  }

  /** Permits taken in the current minute: sessions, then execs (0 where there is no limit). */
  long[] used(String tenantId) {
    return new long[] {used(sessions.get(tenantId)), used(execs.get(tenantId))};
  }

  private static long used(Limiter l) {
    return l == null ? 0 : Math.max(0, l.perMinute() - l.limiter().getMetrics().getAvailablePermissions());
  }

  private static void admit(Map<String, Limiter> limiters, Tenant tenant, int perMinute, String what) {
    if (perMinute <= 0) {
      limiters.remove(tenant.id());
      return;
    }
    Limiter l = limiters.compute(tenant.id(), (id, old) -> old != null && old.perMinute() == perMinute ? old
        : new Limiter(perMinute, RateLimiter.of(id + "/" + what, RateLimiterConfig.custom()
            .limitForPeriod(perMinute).limitRefreshPeriod(WINDOW).timeoutDuration(Duration.ZERO).build())));
    if (l.limiter().acquirePermission()) {
      return;
    }
    Duration wait = l.limiter() instanceof AtomicRateLimiter atomic
        ? Duration.ofNanos(Math.max(0, atomic.getDetailedMetrics().getNanosToWait()))
        : WINDOW;
    throw new PaddockException.ResourceExhausted(ErrorReason.RATE_LIMITED,
        "the tenant may start " + perMinute + " " + what + " a minute, and has", "tenant:" + tenant.id() + ":" + what,
        Map.of("limit", Integer.toString(perMinute), "window", "60s", "scope", what), wait);
  }
}
