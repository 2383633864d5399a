package dev.paddock.runtime.browser;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/**
 * Browser time each tenant has used this UTC day: every open browser adds its time as the host's
 * clock ticks, a closed one its last part. Kept in memory: a restart starts the day's count again
 * (the browsers themselves do not survive a restart either).
 */
final class BrowserMinutes {
  private final Clock clock;
  private final Map<String, Long> usedMillis = new HashMap<>();
  private LocalDate day;

  BrowserMinutes(Clock clock) {
    this.clock = clock;
    this.day = today();
  }

  /** Adds the time from {@code from} to now (only today's part of it) to {@code tenant}; answers now. */
  synchronized Instant charge(String tenant, Instant from) {
    Instant now = clock.instant();
    rollOver();
    Instant dayStart = day.atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant start = from.isBefore(dayStart) ? dayStart : from;
    if (now.isAfter(start)) {
      usedMillis.merge(tenant, Duration.between(start, now).toMillis(), Long::sum);
    }
    return now;
  }

  /** True when {@code tenant} has used all of {@code minutesPerDay} (0 = no limit) today. */
  synchronized boolean exhausted(String tenant, int minutesPerDay) {
    rollOver();
    return minutesPerDay > 0 && usedMillis.getOrDefault(tenant, 0L) >= minutesPerDay * 60_000L;
  }

  /** Minutes {@code tenant} has used today, rounded up. */
  synchronized long usedMinutes(String tenant) {
    rollOver();
    return (usedMillis.getOrDefault(tenant, 0L) + 59_999) / 60_000;
  }

  /** How long until the day turns and every tenant's count starts again. */
  synchronized Duration untilTomorrow() {
    return Duration.between(clock.instant(), today().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant());
  }

  private void rollOver() {
    LocalDate today = today();
    if (!today.equals(day)) {
      day = today;
      usedMillis.clear();
    }
  }

  private LocalDate today() {
    return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
