package dev.paddock.runtime.tenant;

import dev.paddock.runtime.cli.Durations;
import dev.paddock.runtime.cli.Units;
import dev.paddock.runtime.session.SessionSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code host:} section of the operator file: the session and exec defaults and ceilings that
 * hold for every tenant, over the built-in ones ({@link SessionSettings#defaults()}). Every field
 * is optional; durations are written as {@code 90s}, {@code 5m}, {@code 1h}, {@code 1d}; sizes as
 * {@code 256Ki}, {@code 1Gi}, {@code 4096}. A change while the host runs applies to sessions and
 * execs started after it (clientStallTimeout at the next start).
 */
public final class HostSettingsSection {
  /** The fields, in the order the commented default lists them. */
  enum Field {
    defaultIdleTimeout(Kind.DURATION), maxIdleTimeout(Kind.DURATION),
    defaultMaxLifetime(Kind.DURATION), maxLifetime(Kind.DURATION),
    defaultExecTimeout(Kind.DURATION), maxExecTimeout(Kind.DURATION),
    closedRetention(Kind.DURATION), clientStallTimeout(Kind.DURATION),
    maxOutputBytes(Kind.BYTES), replayBytes(Kind.BYTES), retainedExecs(Kind.COUNT),
    workspaceBytes(Kind.BYTES), workspaceInodes(Kind.COUNT);

    final Kind kind;

    Field(Kind kind) {
      this.kind = kind;
    }
  }

  enum Kind { DURATION, BYTES, COUNT }

  private HostSettingsSection() {}

  /** Problems of one field's value (empty when it is fine); {@code at} is its JSON pointer. */
  static List<TenantsFileCheck.Problem> check(String at, Map<String, String> section, Map<String, Integer> lines,
      java.util.function.BiFunction<Map<String, Integer>, String, Integer> lineOf) {
    List<TenantsFileCheck.Problem> problems = new ArrayList<>();
    for (Map.Entry<String, String> e : section.entrySet()) {
      String fieldAt = at + "/" + e.getKey();
      Field field;
      try {
        field = Field.valueOf(e.getKey());
      } catch (IllegalArgumentException unknown) {
        problems.add(new TenantsFileCheck.Problem(fieldAt, lineOf.apply(lines, fieldAt), "unknown field (known: "
            + String.join(", ", java.util.Arrays.stream(Field.values()).map(Enum::name).sorted().toList()) + ")"));
        continue;
      }
      try {
        parse(field, e.getValue());
      } catch (IllegalArgumentException bad) {
        problems.add(new TenantsFileCheck.Problem(fieldAt, lineOf.apply(lines, fieldAt), bad.getMessage()));
      }
    }
    if (problems.isEmpty()) {
      try {
        apply(SessionSettings.defaults(), section);
      } catch (IllegalArgumentException bad) {
        problems.add(new TenantsFileCheck.Problem(at, lineOf.apply(lines, at), bad.getMessage()));
      }
    }
    return problems;
  }

  /** {@code base} with the section's values over it. */
  public static SessionSettings apply(SessionSettings base, Map<String, String> section) {
    if (section == null || section.isEmpty()) {
      return base;
    }
    Map<Field, Object> v = new LinkedHashMap<>();
    section.forEach((k, value) -> v.put(Field.valueOf(k), parse(Field.valueOf(k), value)));
    SessionSettings s = new SessionSettings(
        (Duration) v.getOrDefault(Field.defaultIdleTimeout, base.defaultIdleTimeout()),
        (Duration) v.getOrDefault(Field.maxIdleTimeout, base.maxIdleTimeout()),
        (Duration) v.getOrDefault(Field.defaultMaxLifetime, base.defaultMaxLifetime()),
        (Duration) v.getOrDefault(Field.maxLifetime, base.maxLifetime()),
        (Duration) v.getOrDefault(Field.defaultExecTimeout, base.defaultExecTimeout()),
        (Duration) v.getOrDefault(Field.maxExecTimeout, base.maxExecTimeout()),
        base.maxLimits(),
        (Duration) v.getOrDefault(Field.closedRetention, base.closedRetention()),
        (Long) v.getOrDefault(Field.maxOutputBytes, base.maxOutputBytes()),
        (Duration) v.getOrDefault(Field.clientStallTimeout, base.clientStallTimeout()),
        Math.toIntExact((Long) v.getOrDefault(Field.replayBytes, (long) base.replayBytes())),
        Math.toIntExact((Long) v.getOrDefault(Field.retainedExecs, (long) base.retainedExecs())),
        (Long) v.getOrDefault(Field.workspaceBytes, base.workspaceBytes()),
        (Long) v.getOrDefault(Field.workspaceInodes, base.workspaceInodes()));
    atMost(s.defaultIdleTimeout(), s.maxIdleTimeout(), "defaultIdleTimeout", "maxIdleTimeout");
    atMost(s.defaultMaxLifetime(), s.maxLifetime(), "defaultMaxLifetime", "maxLifetime");
    atMost(s.defaultExecTimeout(), s.maxExecTimeout(), "defaultExecTimeout", "maxExecTimeout");
    return s;
  }

  private static void atMost(Duration value, Duration max, String field, String maxField) {
    if (value.compareTo(max) > 0) {
      throw new IllegalArgumentException(field + " (" + Durations.format(value) + ") is more than " + maxField + " ("
          + Durations.format(max) + ")");
    }
  }

  private static Object parse(Field field, String value) {
    switch (field.kind) {
      case DURATION -> {
        Duration d = Durations.parse(value);
        if (d.isZero()) {
          throw new IllegalArgumentException("must be more than 0");
        }
        return d;
      }
      case BYTES -> {
        long bytes = Units.parseBytes(value);
        long min = field == Field.workspaceBytes ? 1 << 20 : field == Field.replayBytes ? 4096 : 1;
        long max = field == Field.replayBytes ? 64L << 20 : Long.MAX_VALUE;
        if (bytes < min || bytes > max) {
          throw new IllegalArgumentException("must be " + min + " to " + max + " bytes");
        }
        return bytes;
      }
      default -> {
        long n;
        try {
          n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("must be a whole number");
        }
        long max = field == Field.retainedExecs ? 100_000 : 1L << 40;
        if (n < 1 || n > max) {
          throw new IllegalArgumentException("must be 1 to " + max);
        }
        return n;
      }
    }
  }
}
