package dev.paddock.runtime.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses "250ms", "30s", "5m", "2h" or ISO-8601 ("PT30S"). */
final class Durations {
  private static final Pattern SIMPLE = Pattern.compile("(\\d+)(ms|s|m|h)");

  private Durations() {}

  static Duration parse(String text) {
    Matcher m = SIMPLE.matcher(text.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    }
    try {
      return Duration.parse(text.trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (use 500ms, 30s, 5m, 1h or PT30S)");
    }
  }
}
