package dev.paddock.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Failover between providers through their breakers, with providers that fail on cue. */
class ProviderFailoverTest {
  private static final FailoverSettings FAST = new FailoverSettings(Duration.ofSeconds(60), 4, 50, Duration.ofSeconds(5), 80,
      Duration.ofMillis(300), 1);
  private static final BrowserRequest REQUEST = new BrowserRequest("alpha", "task-1");

  /** A provider whose next answers are set by the test: serve, fail, or be at its quota. */
  static class CuedProvider implements BrowserProvider {
    enum Mode { SERVE, FAIL, QUOTA }

    private final String name;
    volatile Mode mode = Mode.SERVE;
    volatile Duration retryAfter;
    final AtomicInteger calls = new AtomicInteger();

    CuedProvider(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Browser acquire(BrowserRequest request) throws ProviderException {
      int n = calls.incrementAndGet();
      switch (mode) {
        case FAIL -> throw new ProviderException(name + " crashed");
        case QUOTA -> throw new ProviderException.Quota(name + " answered 429", retryAfter);
        default -> {
          return new StubBrowser(name, name + "-" + n);
        }
      }
    }
  }

  private final List<String> events = new CopyOnWriteArrayList<>();

  @Test
  void aDeadProviderIsSkippedItsBreakerOpensHalfOpensAndClosesAgain() throws Exception {
    CuedProvider first = new CuedProvider("local");
    CuedProvider second = new CuedProvider("remote");
    ProviderFailover failover = new ProviderFailover(List.of(first, second), FAST, (p, from, to) -> events.add(p + " " + from + ">" + to));
    assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("local");

    first.mode = CuedProvider.Mode.FAIL;
    for (int i = 0; i < 3; i++) {
      assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("remote");
    }
    // 1 success and 3 failures in the window: 75% failed, the breaker opens; local is no longer called.
    assertThat(failover.state("local")).isEqualTo("OPEN");
    int callsWhenOpened = first.calls.get();
    assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("remote");
    assertThat(first.calls.get()).isEqualTo(callsWhenOpened);

    // After the open period one probe goes through; it succeeds and the breaker closes.
    first.mode = CuedProvider.Mode.SERVE;
    Thread.sleep(FAST.openFor().toMillis() + 50);
    assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("local");
    assertThat(failover.state("local")).isEqualTo("CLOSED");
    assertThat(events).containsExactly("local CLOSED>OPEN", "local OPEN>HALF_OPEN", "local HALF_OPEN>CLOSED");
    assertThat(failover.transitions("local")).isEqualTo(3);
  }

  @Test
  void aRunOfQuotaAnswersNeverOpensTheBreakerAndRetryAfterIsHonoured() throws Exception {
    CuedProvider first = new CuedProvider("remote");
    CuedProvider second = new CuedProvider("local");
    ProviderFailover failover = new ProviderFailover(List.of(first, second), FAST, (p, from, to) -> events.add(p));
    first.mode = CuedProvider.Mode.QUOTA;
    first.retryAfter = Duration.ofMillis(200);
    for (int i = 0; i < 20; i++) {
      assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("local");
    }
    assertThat(failover.state("remote")).isEqualTo("CLOSED");
    assertThat(events).isEmpty();
    assertThat(first.calls.get()).as("skipped until its Retry-After passed").isEqualTo(1);
    first.mode = CuedProvider.Mode.SERVE;
    Thread.sleep(250);
    assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("remote");
  }

  @Test
  void withEveryProviderDownTheCallFailsAtOnceWithWhenToRetry() throws Exception {
    CuedProvider first = new CuedProvider("local");
    CuedProvider second = new CuedProvider("remote");
    ProviderFailover failover = new ProviderFailover(List.of(first, second), FAST, (p, from, to) -> {});
    first.mode = CuedProvider.Mode.FAIL;
    second.mode = CuedProvider.Mode.FAIL;
    for (int i = 0; i < 4; i++) {
      assertThatThrownBy(() -> failover.acquire(REQUEST, List.of(), true)).isInstanceOf(BrowserUnavailableException.class);
    }
    assertThat(failover.state("local")).isEqualTo("OPEN");
    assertThat(failover.state("remote")).isEqualTo("OPEN");
    long t0 = System.nanoTime();
    BrowserUnavailableException e = org.assertj.core.api.Assertions.catchThrowableOfType(BrowserUnavailableException.class,
        () -> failover.acquire(REQUEST, List.of(), true));
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(tookMillis).as("no provider is called while its breaker is open").isLessThan(100);
    assertThat(e.reasons()).containsExactly("local: circuit breaker open", "remote: circuit breaker open");
    assertThat(e.retryAfter()).isPositive().isLessThanOrEqualTo(FAST.openFor());
  }

  @Test
  void aTenantCanPinAProviderAndTurnFailoverOff() throws Exception {
    CuedProvider first = new CuedProvider("local");
    CuedProvider second = new CuedProvider("remote");
    ProviderFailover failover = new ProviderFailover(List.of(first, second), FAST, (p, from, to) -> {});
    assertThat(failover.acquire(REQUEST, List.of("remote", "local"), true).provider()).isEqualTo("remote");
    second.mode = CuedProvider.Mode.FAIL;
    assertThat(failover.acquire(REQUEST, List.of("remote", "local"), true).provider()).isEqualTo("local");
    assertThatThrownBy(() -> failover.acquire(REQUEST, List.of("remote", "local"), false)).isInstanceOf(BrowserUnavailableException.class)
        .hasMessageContaining("remote crashed");
    assertThat(first.calls.get()).isEqualTo(1);
    assertThatThrownBy(() -> failover.acquire(REQUEST, List.of("nope"), true)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void slowStartsCountAgainstAProvider() throws Exception {
    FailoverSettings slow = new FailoverSettings(Duration.ofSeconds(60), 2, 50, Duration.ofMillis(20), 50,
        Duration.ofSeconds(10), 1);
    BrowserProvider sluggish = new CuedProvider("sluggish") {
      @Override
      public Browser acquire(BrowserRequest request) throws ProviderException {
        try {
          Thread.sleep(40);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return super.acquire(request);
      }
    };
    CuedProvider quick = new CuedProvider("quick");
    ProviderFailover failover = new ProviderFailover(List.of(sluggish, quick), slow, (p, from, to) -> {});
    failover.acquire(REQUEST, List.of(), true);
    failover.acquire(REQUEST, List.of(), true);
    assertThat(failover.state("sluggish")).isEqualTo("OPEN");
    assertThat(failover.acquire(REQUEST, List.of(), true).provider()).isEqualTo("quick");
  }
}
