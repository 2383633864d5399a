package dev.paddock.browser;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider with blank browsers started ahead of time: {@link #acquire} hands out a waiting one
 * (bound to the request's tenant and task only then, and to no one else ever: it leaves the pool
 * as it is claimed), and one background thread starts another in its place. With none waiting, or
 * one that died while waiting, a request is served cold by the provider itself. Warm browsers are
 * counted against a tenant only once claimed: until then they are the operator's.
 */
public final class WarmPool implements BrowserProvider, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WarmPool.class);
  /** Wait after a warm start failed before the next try (a provider that cannot start any). */
  private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(5);

  private final WarmableProvider provider;
  private final int size;
  private final ConcurrentLinkedQueue<WarmableProvider.Warm> ready = new ConcurrentLinkedQueue<>();
  /** Browsers waiting plus those being started: what the refill thread aims to keep at {@code size}. */
  private final AtomicInteger planned = new AtomicInteger();
  private final ScheduledExecutorService refill;
  private final AtomicInteger warmHits = new AtomicInteger();
  private final AtomicInteger coldStarts = new AtomicInteger();
  private volatile boolean closed;

  /** @param size blank browsers to keep waiting (at least 1), started one at a time */
  public WarmPool(WarmableProvider provider, int size) {
    this(provider, size, 1);
  }

  /**
   * @param size          blank browsers to keep waiting (at least 1)
   * @param refillAtOnce  how many may be starting at the same time (1 to size): more refills a
   *                      drained pool sooner, at the cost of that many cold starts' CPU at once
   */
  public WarmPool(WarmableProvider provider, int size, int refillAtOnce) {
    if (size < 1) {
      throw new IllegalArgumentException("a warm pool needs a size of at least 1");
    }
    if (refillAtOnce < 1 || refillAtOnce > size) {
      throw new IllegalArgumentException("a warm pool refills 1 to size (" + size + ") browsers at once");
    }
    this.provider = provider;
    this.size = size;
    this.refill = Executors.newScheduledThreadPool(refillAtOnce, r -> {
      Thread t = new Thread(r, "browser-warm-" + provider.name());
      t.setDaemon(true);
      return t;
    });
    refill();
  }

  @Override
  public String name() {
    return provider.name();
  }

  @Override
  public boolean confined() {
    return provider.confined();
  }

  /** Browsers waiting now. */
  public int waiting() {
    return ready.size();
  }

  /** Requests served by a waiting browser since start. */
  public int warmHits() {
    return warmHits.get();
  }

  /** Requests served cold (none was waiting, or the one waiting had died) since start. */
  public int coldStarts() {
    return coldStarts.get();
  }

  @Override
  public Browser acquire(BrowserRequest request) throws ProviderException {
    WarmableProvider.Warm warm;
    while ((warm = ready.poll()) != null) {
      planned.decrementAndGet();
      refill();
      if (!warm.alive()) {
        log.warn("browser provider {}: a warm browser died while it waited", provider.name());
        warm.close();
        continue;
      }
      try {
        Browser browser = warm.claim(request);
        warmHits.incrementAndGet();
        return browser;
      } catch (ProviderException | RuntimeException e) {
        log.warn("browser provider {}: a warm browser could not be claimed: {}", provider.name(), e.getMessage());
        warm.close();
      }
    }
    refill();
    coldStarts.incrementAndGet();
    return provider.acquire(request);
  }

  /** Starts browsers in the background until {@code size} wait or are being started. */
  private void refill() {
    while (!closed) {
      int now = planned.get();
      if (now >= size) {
        return;
      }
      if (planned.compareAndSet(now, now + 1)) {
        refill.execute(this::startOne);
      }
    }
  }

  private void startOne() {
    if (closed) {
      planned.decrementAndGet();
      return;
    }
    try {
      WarmableProvider.Warm warm = provider.startWarm();
      ready.add(warm);
      if (closed && ready.remove(warm)) { // closed while it started
        warm.close();
      }
    } catch (ProviderException | RuntimeException e) {
      log.warn("browser provider {}: a warm browser did not start (next try in {} s): {}", provider.name(),
          RETRY_AFTER_FAILURE.toSeconds(), e.getMessage());
      refill.schedule(this::startOne, RETRY_AFTER_FAILURE.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Stops refilling and closes every waiting browser. */
  @Override
  public void close() {
    closed = true;
    refill.shutdownNow();
    WarmableProvider.Warm warm;
    while ((warm = ready.poll()) != null) {
      warm.close();
    }
  }
}
