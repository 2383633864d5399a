package dev.paddock.runtime.egress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's count of packets a jail's network namespace could not route, read from outside
 * through a process of the jail ({@code /proc/PID/net/snmp} and {@code snmp6} show the namespace of
 * PID). A jail has only its own loopback, so every such packet is a tool trying to go around the
 * egress proxy.
 */
final class JailNetCounters {
  private JailNetCounters() {}

  /** {@code /proc/PID/net} of {@code jail}'s init, or null when the jail has none to name now. */
  static Path netDir(dev.paddock.sandbox.jail.Jail jail) {
    java.util.OptionalLong pid = jail.initPid();
    return pid.isPresent() ? Path.of("/proc", Long.toString(pid.getAsLong()), "net") : null;
  }

  /**
   * {IPv4 OutNoRoutes, IPv6 Ip6OutNoRoutes} of the namespace whose {@code /proc/PID/net} is
   * {@code net}; a family the kernel does not list counts 0. Null when {@code net} is null or
   * cannot be read (its process is gone).
   */
  static long[] noRoutes(Path net) {
    if (net == null) {
      return null;
    }
    try {
      long v4 = ipv4(Files.readString(net.resolve("snmp"), StandardCharsets.US_ASCII));
      Path snmp6 = net.resolve("snmp6");
      long v6 = Files.exists(snmp6) ? ipv6(Files.readString(snmp6, StandardCharsets.US_ASCII)) : 0;
      return new long[] {v4, v6};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** OutNoRoutes from snmp's two "Ip:" lines (names, then values). */
  static long ipv4(String snmp) {
    String[] names = null;
    for (String line : snmp.split("\n")) {
      if (!line.startsWith("Ip: ")) {
        continue;
      }
      String[] fields = line.trim().split(" +");
      if (names == null) {
        names = fields;
        continue;
      }
      for (int k = 1; k < Math.min(names.length, fields.length); k++) {
        if (names[k].equals("OutNoRoutes")) {
          return Long.parseLong(fields[k]);
        }
      }
      break;
    }
    throw new IllegalArgumentException("no Ip: OutNoRoutes in snmp");
  }

  /** Ip6OutNoRoutes from snmp6's "name value" lines. */
  static long ipv6(String snmp6) {
    for (String line : snmp6.split("\n")) {
      if (line.startsWith("Ip6OutNoRoutes ") || line.startsWith("Ip6OutNoRoutes\t")) {
        return Long.parseLong(line.substring("Ip6OutNoRoutes".length()).trim());
      }
    }
    throw new IllegalArgumentException("no Ip6OutNoRoutes in snmp6");
  }
}
