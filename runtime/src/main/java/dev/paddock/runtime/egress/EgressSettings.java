package dev.paddock.runtime.egress;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The operator's egress settings, host-wide.
 *
 * @param fixedNames     names the proxy resolves to fixed addresses before asking the system
 *                       resolver (lower case); default none
 * @param reachable      special addresses (private, loopback, link-local, metadata...) jails may
 *                       reach when an allow-list lets them; default none
 * @param connectTimeout how long the proxy waits for a destination to accept. Default 10 s.
 * @param maxConnections connections open through the proxy at once, every tenant together;
 *                       past it every new one is refused (BUDGET). Default 4096.
 * @param upstreamCa     PEM certificates the proxy trusts for the TLS connections it makes itself
 *                       (header secrets with {@code https}), read at each such connection; null =
 *                       the JVM's trusted roots (the default)
 */
public record EgressSettings(Map<String, List<InetAddress>> fixedNames, List<AddressRange> reachable,
    Duration connectTimeout, int maxConnections, java.nio.file.Path upstreamCa) {
  public static final EgressSettings DEFAULTS = new EgressSettings(Map.of(), List.of(), Duration.ofSeconds(10), 4096, null);

  public EgressSettings {
    fixedNames = Map.copyOf(fixedNames);
    reachable = List.copyOf(reachable);
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException("the egress connect timeout must be more than 0");
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("the egress connection limit must be at least 1");
    }
  }

  /**
   * Parses {@code NAME=ADDRESS} pairs (the operator's {@code --egress-host} flags); a name given
   * several times gets every address.
   */
  public static Map<String, List<InetAddress>> parseFixedNames(List<String> pairs) {
    Map<String, List<InetAddress>> out = new LinkedHashMap<>();
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? "" : pair.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      byte[] ip = eq < 0 ? null : AddressRange.literal(pair.substring(eq + 1).trim());
      if (name.isEmpty() || ip == null) {
        throw new IllegalArgumentException("'" + pair + "': expected NAME=ADDRESS, e.g. files.example.test=127.0.0.1");
      }
      try {
        out.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(InetAddress.getByAddress(name, ip));
      } catch (java.net.UnknownHostException e) {
        throw new IllegalArgumentException("'" + pair + "': " + e.getMessage());
      }
    }
    return out;
  }

  /** The same settings with {@code names} resolved to fixed addresses. */
  public EgressSettings withFixedNames(Map<String, List<InetAddress>> names) {
    return new EgressSettings(names, reachable, connectTimeout, maxConnections, upstreamCa);
  }

  /** The same settings with {@code ranges} reachable. */
  public EgressSettings withReachable(List<AddressRange> ranges) {
    return new EgressSettings(fixedNames, ranges, connectTimeout, maxConnections, upstreamCa);
  }

  /** The same settings trusting the certificates in {@code pem} for the proxy's own TLS connections. */
  public EgressSettings withUpstreamCa(java.nio.file.Path pem) {
    return new EgressSettings(fixedNames, reachable, connectTimeout, maxConnections, pem);
  }
}
