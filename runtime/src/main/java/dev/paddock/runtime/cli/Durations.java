package dev.paddock.runtime.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations the way people write them on a command line.
 *
 * <ul>
 *   <li>a number with a unit: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d}
 *       ({@code d} = 24 hours); decimals are allowed ({@code 1.5h} = 90 minutes);
 *   <li>several of them added up: {@code 1m30s}, {@code 1h30m}, {@code 2s500ms};
 *   <li>a plain number: seconds ({@code 90} = 90 s, {@code 0.25} = 250 ms);
 *   <li>ISO-8601, as {@link Duration#parse} reads it ({@code PT30S}).
 * </ul>
 *
 * Units are lower case ({@code m} is always minutes). Negative durations are refused; resolution is
 * one nanosecond (finer digits are dropped).
 */
public final class Durations {
  private static final Pattern NUMBER = Pattern.compile("\\d+(?:\\.\\d+)?");
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d)");
  private static final BigDecimal NANOS_PER_MILLI = BigDecimal.valueOf(1_000_000L);
  private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

  private Durations() {}

  /** Parses {@code text}; throws {@link IllegalArgumentException} with a message fit for users. */
  public static Duration parse(String text) {
    String s = text == null ? "" : text.trim();
    if (s.startsWith("P") || s.startsWith("p")) {
      try {
        Duration d = Duration.parse(s);
        if (d.isNegative()) {
          throw invalid(text);
        }
        return d;
      } catch (DateTimeParseException e) {
        throw invalid(text);
      }
    }
    if (NUMBER.matcher(s).matches()) {
      return ofNanos(new BigDecimal(s).multiply(NANOS_PER_SECOND), text);
    }
    Matcher m = PART.matcher(s);
    BigDecimal nanos = BigDecimal.ZERO;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        throw invalid(text);
      }
      BigDecimal n = new BigDecimal(m.group(1));
      nanos = nanos.add(n.multiply(switch (m.group(2)) {
        case "ms" -> NANOS_PER_MILLI;
        case "s" -> NANOS_PER_SECOND;
        case "m" -> NANOS_PER_SECOND.multiply(BigDecimal.valueOf(60));
        case "h" -> NANOS_PER_SECOND.multiply(BigDecimal.valueOf(3600));
        default -> NANOS_PER_SECOND.multiply(BigDecimal.valueOf(86_400));
      }));
      at = m.end();
    }
    if (at == 0) {
      throw invalid(text);
    }
    return ofNanos(nanos, text);
  }

  /** A short human form: {@code 1h30m}, {@code 45s}, {@code 1.5s}, {@code 250ms}, {@code 0s}. */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    if (d.compareTo(Duration.ofSeconds(1)) < 0) {
      return d.toNanos() % 1_000_000 == 0 ? d.toMillis() + "ms" : d.toNanos() + "ns";
    }
    StringBuilder b = new StringBuilder();
    long days = d.toDays();
    if (days > 0) {
      b.append(days).append('d');
    }
    if (d.toHoursPart() > 0) {
      b.append(d.toHoursPart()).append('h');
    }
    if (d.toMinutesPart() > 0) {
      b.append(d.toMinutesPart()).append('m');
    }
    if (d.toSecondsPart() > 0 || d.getNano() > 0) {
      b.append(d.toSecondsPart());
      if (d.getNano() > 0) {
        String fraction = String.format("%09d", d.getNano()).replaceFirst("0+$", "");
        b.append('.').append(fraction);
      }
      b.append('s');
    }
    return b.toString();
  }

  /** The protobuf form of {@code d}. */
  static com.google.protobuf.Duration toProto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** The Java form of a protobuf duration. */
  static Duration fromProto(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  private static Duration ofNanos(BigDecimal nanos, String text) {
    BigDecimal whole = nanos.setScale(0, RoundingMode.DOWN);
    BigDecimal[] secondsAndNanos = whole.divideAndRemainder(NANOS_PER_SECOND);
    try {
      return Duration.ofSeconds(secondsAndNanos[0].longValueExact(), secondsAndNanos[1].longValueExact());
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("duration '" + text + "' is too long");
    }
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid duration '" + text
        + "': use a number with a unit (ms, s, m, h, d), e.g. 500ms, 30s, 1m30s, 1h, or a plain number of seconds");
  }

  /** picocli converter for {@link Duration} options (registered for every command). */
  static final class Converter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
