package dev.paddock.browser;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a request a browser from the first provider that can, in the operator's order, through
 * one resilience4j circuit breaker per provider. A provider whose breaker is open is skipped
 * without being called; a failure or a slow start counts against it; an answer that it is at its
 * quota (a 429) moves the request on without counting, and the provider is skipped until its
 * Retry-After has passed. When no provider can serve, the request fails at once with the soonest
 * time worth retrying. A tenant may pin one provider and turn failover off.
 *
 * <p>Breaker state changes are logged, counted and handed to a listener (the host's audit log).
 */
public final class ProviderFailover {
  private static final Logger log = LoggerFactory.getLogger(ProviderFailover.class);
  /** When nothing better is known, how long a caller should wait before trying again. */
  private static final Duration DEFAULT_RETRY = Duration.ofSeconds(1);

  /** Told of every breaker state change: provider, from, to (CLOSED, OPEN, HALF_OPEN...). */
  @FunctionalInterface
  public interface BreakerListener {
    void changed(String provider, String from, String to);
  }

  private final Map<String, BrowserProvider> providers = new LinkedHashMap<>();
  private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();
  private final Map<String, Long> openedAtNanos = new ConcurrentHashMap<>();
  private final Map<String, Long> quotaUntilNanos = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> transitions = new ConcurrentHashMap<>();
  private final FailoverSettings settings;

  /** @param ordered the providers, in the order requests try them */
  public ProviderFailover(List<BrowserProvider> ordered, FailoverSettings settings, BreakerListener listener) {
    this.settings = settings;
    CircuitBreakerConfig config = CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
        .slidingWindowSize((int) settings.window().toSeconds())
        .minimumNumberOfCalls(settings.minimumCalls())
        .failureRateThreshold(settings.failureRatePercent())
        .slowCallDurationThreshold(settings.slowCall())
        .slowCallRateThreshold(settings.slowCallRatePercent())
        .waitDurationInOpenState(settings.openFor())
        .permittedNumberOfCallsInHalfOpenState(settings.halfOpenCalls())
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .build();
    for (BrowserProvider p : ordered) {
      if (providers.putIfAbsent(p.name(), p) != null) {
        throw new IllegalArgumentException("two providers are named " + p.name());
      }
      CircuitBreaker breaker = CircuitBreaker.of(p.name(), config);
      transitions.put(p.name(), new AtomicLong());
      breaker.getEventPublisher().onStateTransition(e -> {
        String from = e.getStateTransition().getFromState().name();
        String to = e.getStateTransition().getToState().name();
        if (e.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
          openedAtNanos.put(p.name(), System.nanoTime());
        }
        transitions.get(p.name()).incrementAndGet();
        log.warn("browser provider {}: circuit breaker {} -> {}", p.name(), from, to);
        try {
          listener.changed(p.name(), from, to);
        } catch (RuntimeException ex) {
          log.error("a breaker listener failed", ex);
        }
      });
      breakers.put(p.name(), breaker);
    }
    if (providers.isEmpty()) {
      throw new IllegalArgumentException("at least one browser provider is needed");
    }
  }

  /** The provider names, in order. */
  public List<String> providers() {
    return List.copyOf(providers.keySet());
  }

  /** Whether {@code provider}'s pages reach the network only through the host's egress proxy. */
  public boolean confined(String provider) {
    breaker(provider);
    return providers.get(provider).confined();
  }

  /** The state of {@code provider}'s breaker: CLOSED, OPEN, HALF_OPEN. */
  public String state(String provider) {
    return breaker(provider).getState().name();
  }

  /** How many times {@code provider}'s breaker changed state since start. */
  public long transitions(String provider) {
    breaker(provider);
    return transitions.get(provider).get();
  }

  /**
   * A browser for {@code request}.
   *
   * @param order    the providers to try, in order (a tenant's own list, or one it pinned); empty =
   *                 the operator's order
   * @param failover false: only the first of them is tried
   * @throws BrowserUnavailableException when none could serve, with when to try again
   * @throws IllegalArgumentException for a provider that does not exist
   */
  public Browser acquire(BrowserRequest request, List<String> order, boolean failover) throws BrowserUnavailableException {
    order.forEach(this::breaker);
    List<String> tried = order.isEmpty() ? List.copyOf(providers.keySet()) : order;
    if (!failover) {
      tried = tried.subList(0, 1);
    }
    List<String> reasons = new ArrayList<>();
    long soonest = Long.MAX_VALUE;
    for (String name : tried) {
      long now = System.nanoTime();
      Long quotaUntil = quotaUntilNanos.get(name);
      if (quotaUntil != null && now - quotaUntil < 0) {
        reasons.add(name + ": at its quota");
        soonest = Math.min(soonest, quotaUntil - now);
        continue;
      }
      CircuitBreaker breaker = breakers.get(name);
      if (!breaker.tryAcquirePermission()) {
        reasons.add(name + ": circuit breaker " + breaker.getState().name().toLowerCase(java.util.Locale.ROOT));
        soonest = Math.min(soonest, untilProbe(name));
        continue;
      }
      long start = System.nanoTime();
      try {
        Browser browser = providers.get(name).acquire(request);
        breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        return browser;
      } catch (ProviderException.Quota q) {
        breaker.releasePermission(); // busy is not broken
        Duration wait = q.retryAfter() == null ? DEFAULT_RETRY : q.retryAfter();
        quotaUntilNanos.put(name, System.nanoTime() + wait.toNanos());
        reasons.add(name + ": at its quota");
        soonest = Math.min(soonest, wait.toNanos());
      } catch (ProviderException | RuntimeException e) {
        breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
        reasons.add(name + ": " + e.getMessage());
        soonest = Math.min(soonest, DEFAULT_RETRY.toNanos());
      }
    }
    throw new BrowserUnavailableException(soonest == Long.MAX_VALUE ? DEFAULT_RETRY : Duration.ofNanos(Math.max(0, soonest)),
        reasons);
  }

  /** How long until an open breaker lets a probe through (0 when it already may). */
  private long untilProbe(String name) {
    Long opened = openedAtNanos.get(name);
    if (opened == null) {
      return DEFAULT_RETRY.toNanos();
    }
    return Math.max(0, settings.openFor().toNanos() - (System.nanoTime() - opened));
  }

  private CircuitBreaker breaker(String provider) {
    CircuitBreaker b = breakers.get(provider);
    if (b == null) {
      throw new IllegalArgumentException("no browser provider is named " + provider);
    }
    return b;
  }
}
