package dev.paddock.runtime.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes, CPU shares and file modes the way people write them on a command line, and back (the
 * durations are in {@link Durations}).
 *
 * <p><b>Sizes</b> are bytes: a plain whole number ({@code 1048576}), or a number with a unit, where
 * <em>every unit is binary</em> (as in Docker): {@code K}, {@code Ki}, {@code KiB} and {@code KB} all
 * mean 1024 bytes; {@code M…} 1024², {@code G…} 1024³, {@code T…} 1024⁴; {@code B} is one byte. Units
 * are case-insensitive and decimals are allowed ({@code 1.5G}); a fraction of a byte is dropped.
 *
 * <p><b>CPU</b> is in cores or thousandths of a core: {@code 2} = two cores, {@code 0.5} = half a core,
 * {@code 500m} = 500 millicores = half a core; the result is millicores (ResourceLimits.cpu_millicores).
 *
 * <p><b>Modes</b> are octal permission bits within 0777 ({@code 644}, {@code 0755}).
 */
public final class Units {
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([A-Za-z]*)");
  private static final Pattern CPU = Pattern.compile("(\\d+(?:\\.\\d+)?)(m?)");
  private static final Pattern MODE = Pattern.compile("[0-7]{1,4}");
  private static final String[] BINARY = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private Units() {}

  /** Bytes in {@code text}; throws {@link IllegalArgumentException} with a message fit for users. */
  public static long parseBytes(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("invalid size '" + text
          + "': use bytes or a number with a binary unit, e.g. 1048576, 512Ki, 256M, 64MiB, 1.5G");
    }
    String unit = m.group(2).toLowerCase(Locale.ROOT);
    int power = switch (unit) {
      case "", "b" -> 0;
      case "k", "ki", "kib", "kb" -> 1;
      case "m", "mi", "mib", "mb" -> 2;
      case "g", "gi", "gib", "gb" -> 3;
      case "t", "ti", "tib", "tb" -> 4;
      default -> throw new IllegalArgumentException("invalid size '" + text + "': unknown unit '" + m.group(2)
          + "' (use B, K, M, G or T; all binary: M = MiB = 1048576 bytes)");
    };
    BigDecimal number = new BigDecimal(m.group(1));
    if (power == 0 && number.scale() > 0) {
      throw new IllegalArgumentException("invalid size '" + text + "': a byte count must be a whole number");
    }
    BigDecimal bytes = number.multiply(BigDecimal.valueOf(1024L).pow(power)).setScale(0, RoundingMode.DOWN);
    try {
      return bytes.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("invalid size '" + text + "': too large");
    }
  }

  /** {@code 536870912} as {@code 512 MiB}, {@code 1610612736} as {@code 1.5 GiB}, {@code 1000} as {@code 1000 B}. */
  static String formatBytes(long bytes) {
    int power = 0;
    double value = bytes;
    while (value >= 1024 && power < BINARY.length - 1) {
      value /= 1024;
      power++;
    }
    if (power == 0) {
      return bytes + " B";
    }
    BigDecimal shown = BigDecimal.valueOf(value).setScale(1, RoundingMode.HALF_UP).stripTrailingZeros();
    return shown.toPlainString() + " " + BINARY[power];
  }

  /** Millicores in {@code text} ({@code 0.5}, {@code 500m}, {@code 2}); more than 0. */
  static int parseMillicores(String text) {
    Matcher m = CPU.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("invalid CPU '" + text + "': use cores (2, 0.5) or millicores (500m)");
    }
    BigDecimal millis = new BigDecimal(m.group(1));
    if (m.group(2).isEmpty()) {
      millis = millis.multiply(BigDecimal.valueOf(1000));
    }
    try {
      int value = millis.stripTrailingZeros().intValueExact();
      if (value <= 0) {
        throw new IllegalArgumentException("invalid CPU '" + text + "': must be more than 0");
      }
      return value;
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("invalid CPU '" + text + "': must be a whole number of millicores (0.001 core), at most "
          + Integer.MAX_VALUE + "m");
    }
  }

  /** {@code 1000} as {@code 1}, {@code 500} as {@code 0.5}, {@code 2500} as {@code 2.5} (cores). */
  static String formatMillicores(int millicores) {
    return BigDecimal.valueOf(millicores, 3).stripTrailingZeros().toPlainString();
  }

  /** Permission bits from octal {@code text} ({@code 644} = 420); at most 0777. */
  static int parseMode(String text) {
    String s = text == null ? "" : text.trim();
    if (!MODE.matcher(s).matches() || Integer.parseInt(s, 8) > 0777) {
      throw new IllegalArgumentException("invalid mode '" + text + "': use octal permission bits within 0777, e.g. 644 or 0755");
    }
    return Integer.parseInt(s, 8);
  }

  /** {@code 420} as {@code 0644}. */
  static String formatMode(int mode) {
    return String.format("%04o", mode);
  }

  /** picocli converter for size options (bytes, {@code 256M}, {@code 1.5G}, ...). */
  static final class Bytes implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parseBytes(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** picocli converter for CPU options ({@code 0.5}, {@code 500m}, {@code 2}) to millicores. */
  static final class Millicores implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return parseMillicores(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** picocli converter for octal permission bits ({@code 644}). */
  static final class Mode implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return parseMode(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
