package dev.paddock.runtime.browser;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class BrowserMinutesTest {
  /** A clock the test moves. */
  static final class SteppedClock extends Clock {
    Instant now;

    SteppedClock(Instant start) {
      now = start;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void openTimeIsChargedAsTheClockMovesAndTheBudgetHoldsUntilTheDayTurns() {
    SteppedClock clock = new SteppedClock(Instant.parse("2026-11-26T23:50:00Z"));
    BrowserMinutes minutes = new BrowserMinutes(clock);
    Instant opened = clock.instant();
    assertThat(minutes.exhausted("a", 5)).isFalse();

    clock.now = clock.now.plus(Duration.ofMinutes(3));
    Instant charged = minutes.charge("a", opened);
    assertThat(minutes.usedMinutes("a")).isEqualTo(3);
    assertThat(minutes.exhausted("a", 5)).isFalse();
    clock.now = clock.now.plus(Duration.ofMinutes(2));
    charged = minutes.charge("a", charged); // the next tick charges only what is new
    assertThat(minutes.usedMinutes("a")).isEqualTo(5);
    assertThat(minutes.exhausted("a", 5)).isTrue();
    assertThat(minutes.exhausted("a", 0)).isFalse(); // 0: no limit
    assertThat(minutes.exhausted("b", 5)).isFalse(); // per tenant
    assertThat(minutes.untilTomorrow()).isEqualTo(Duration.ofMinutes(5));

    // Past midnight (UTC) the count starts again, with only today's part of a browser still open.
    clock.now = Instant.parse("2026-11-27T00:02:00Z");
    minutes.charge("a", charged);
    assertThat(minutes.usedMinutes("a")).isEqualTo(2);
    assertThat(minutes.exhausted("a", 5)).isFalse();
  }
}
