package dev.paddock.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WarmPoolTest {
  private static final BrowserRequest REQUEST = new BrowserRequest("alpha", "task-1");

  /** A provider whose warm browsers the test can kill; records who claimed what. */
  static class CuedWarmProvider implements WarmableProvider {
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger cold = new AtomicInteger();
    final List<CuedWarm> warms = new CopyOnWriteArrayList<>();
    volatile boolean failWarmStarts;

    @Override
    public String name() {
      return "local";
    }

    @Override
    public Browser acquire(BrowserRequest request) {
      cold.incrementAndGet();
      return new CuedWarm("cold-" + cold.get()).claim(request);
    }

    @Override
    public Warm startWarm() throws ProviderException {
      if (failWarmStarts) {
        throw new ProviderException("Chromium is not installed");
      }
      CuedWarm w = new CuedWarm("warm-" + started.incrementAndGet());
      warms.add(w);
      return w;
    }
  }

  static final class CuedWarm implements WarmableProvider.Warm {
    final String id;
    volatile boolean alive = true;
    volatile boolean closed;
    volatile BrowserRequest claimedBy;

    CuedWarm(String id) {
      this.id = id;
    }

    @Override
    public boolean alive() {
      return alive && !closed;
    }

    @Override
    public synchronized Browser claim(BrowserRequest request) {
      if (claimedBy != null) {
        throw new IllegalStateException("claimed twice");
      }
      claimedBy = request;
      return new StubBrowser("local", id);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  @Test
  void aWaitingBrowserIsHandedOutOnceAndReplaced() throws Exception {
    CuedWarmProvider provider = new CuedWarmProvider();
    try (WarmPool pool = new WarmPool(provider, 2)) {
      await(() -> pool.waiting() == 2);
      Browser first = pool.acquire(REQUEST);
      Browser second = pool.acquire(new BrowserRequest("beta", "task-2"));
      assertThat(first.id()).startsWith("warm-");
      assertThat(second.id()).startsWith("warm-").isNotEqualTo(first.id());
      assertThat(provider.warms).filteredOn(w -> w.claimedBy != null).extracting(w -> w.claimedBy.tenant())
          .containsExactlyInAnyOrder("alpha", "beta");
      await(() -> pool.waiting() == 2); // refilled
      assertThat(provider.started.get()).isEqualTo(4);
      assertThat(pool.warmHits()).isEqualTo(2);
      assertThat(provider.cold.get()).isZero();
    }
    // Closing the pool closes the browsers still waiting, not the ones handed out.
    assertThat(provider.warms).filteredOn(w -> w.claimedBy == null).allMatch(w -> w.closed);
    assertThat(provider.warms).filteredOn(w -> w.claimedBy != null).noneMatch(w -> w.closed);
  }

  @Test
  void aBrowserThatDiedWhileWaitingIsClosedAndSkipped() throws Exception {
    CuedWarmProvider provider = new CuedWarmProvider();
    try (WarmPool pool = new WarmPool(provider, 1)) {
      await(() -> pool.waiting() == 1);
      CuedWarm dead = provider.warms.get(0);
      dead.alive = false;
      Browser served = pool.acquire(REQUEST);
      assertThat(dead.closed).isTrue();
      assertThat(dead.claimedBy).isNull();
      assertThat(served.id()).isNotEqualTo(dead.id);
      assertThat(pool.coldStarts() + pool.warmHits()).isEqualTo(1);
    }
  }

  @Test
  void withNoWarmBrowserARequestIsServedCold() throws Exception {
    CuedWarmProvider provider = new CuedWarmProvider();
    provider.failWarmStarts = true;
    try (WarmPool pool = new WarmPool(provider, 1)) {
      assertThat(pool.acquire(REQUEST).id()).isEqualTo("cold-1");
      assertThat(pool.coldStarts()).isEqualTo(1);
      assertThat(pool.waiting()).isZero();
    }
    assertThatThrownBy(() -> new WarmPool(provider, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aDrainedPoolRefillsAsManyAtOnceAsTheOperatorSays() throws Exception {
    java.util.concurrent.CountDownLatch bothStarting = new java.util.concurrent.CountDownLatch(2);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    CuedWarmProvider provider = new CuedWarmProvider() {
      @Override
      public Warm startWarm() throws ProviderException {
        bothStarting.countDown();
        try {
          release.await(); // each start takes until the test lets it finish
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return super.startWarm();
      }
    };
    try (WarmPool pool = new WarmPool(provider, 2, 2)) {
      assertThat(bothStarting.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("two starts at once").isTrue();
      release.countDown();
      await(() -> pool.waiting() == 2);
    }
    assertThatThrownBy(() -> new WarmPool(provider, 2, 3)).isInstanceOf(IllegalArgumentException.class);
  }
}
