package dev.paddock.runtime.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.runtime.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BrowserMinutesTest {
  @Test
  void openTimeIsChargedAsTheClockMovesAndTheBudgetHoldsUntilTheDayTurns() {
    ManualClock clock = new ManualClock(Instant.parse("2026-11-26T23:50:00Z"));
    BrowserMinutes minutes = new BrowserMinutes(clock);
    Instant opened = clock.instant();
    assertThat(minutes.exhausted("a", 5)).isFalse();

    clock.advance(Duration.ofMinutes(3));
    Instant charged = minutes.charge("a", opened);
    assertThat(minutes.usedMinutes("a")).isEqualTo(3);
    assertThat(minutes.exhausted("a", 5)).isFalse();
    clock.advance(Duration.ofMinutes(2));
    charged = minutes.charge("a", charged); // the next tick charges only what is new
    assertThat(minutes.usedMinutes("a")).isEqualTo(5);
    assertThat(minutes.exhausted("a", 5)).isTrue();
    assertThat(minutes.exhausted("a", 0)).isFalse(); // 0: no limit
    assertThat(minutes.exhausted("b", 5)).isFalse(); // per tenant
    assertThat(minutes.untilTomorrow()).isEqualTo(Duration.ofMinutes(5));

    // Past midnight (UTC) the count starts again, with only today's part of a browser still open.
    clock.advance(Duration.ofMinutes(7)); // 2026-11-27T00:02Z
    minutes.charge("a", charged);
    assertThat(minutes.usedMinutes("a")).isEqualTo(2);
    assertThat(minutes.exhausted("a", 5)).isFalse();
  }
}
