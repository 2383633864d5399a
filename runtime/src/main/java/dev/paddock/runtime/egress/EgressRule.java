package dev.paddock.runtime.egress;

import java.net.InetAddress;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One entry of an allow- or deny-list: where a connection goes, by name or by address, and on which
 * ports. Written as {@code HOST[:PORTS]}:
 * <ul>
 *   <li>{@code example.com}: that name exactly; {@code *.example.com}: any name below it (not
 *       example.com itself); {@code *}: any name (never a raw address);
 *   <li>{@code 203.0.113.7}, {@code 203.0.113.0/24}, {@code [2001:db8::]/32}: addresses (IPv6 in
 *       brackets). A request for a raw address is allowed only by such an entry; in a deny-list they
 *       are also checked against the addresses a name resolves to;
 *   <li>{@code PORTS}: {@code 443}, {@code 8000-8100} or {@code *}; absent = any port.
 * </ul>
 * Names are compared case-insensitively, without a trailing dot.
 */
public final class EgressRule {
  private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");

  private enum Kind { ANY_NAME, NAME, SUFFIX, NETWORK }

  private final String text;
  private final Kind kind;
  private final String name;      // NAME: the name; SUFFIX: ".example.com"
  private final AddressRange range; // NETWORK
  private final int portLow;
  private final int portHigh;

  private EgressRule(String text, Kind kind, String name, AddressRange range, int portLow, int portHigh) {
    this.text = text;
    this.kind = kind;
    this.name = name;
    this.range = range;
    this.portLow = portLow;
    this.portHigh = portHigh;
  }

  /** Parses one entry; IllegalArgumentException says what is wrong with it. */
  public static EgressRule parse(String entry) {
    if (entry == null || entry.isBlank() || entry.length() > 300) {
      throw new IllegalArgumentException("an entry must be 1-300 characters");
    }
    String s = entry.trim();
    String host;
    String ports = "*";
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("'" + entry + "': an IPv6 address opened with [ has no ]");
      }
      host = s.substring(1, close);
      String rest = s.substring(close + 1);
      if (rest.startsWith("/")) { // [2001:db8::]/32[:443]
        int colon = rest.indexOf(':');
        host += colon < 0 ? rest : rest.substring(0, colon);
        rest = colon < 0 ? "" : rest.substring(colon);
      }
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException("'" + entry + "': expected :PORTS after the address");
        }
        ports = rest.substring(1);
      }
    } else {
      int colon = s.lastIndexOf(':');
      if (colon >= 0 && s.indexOf(':') != colon) {
        throw new IllegalArgumentException("'" + entry + "': write IPv6 addresses in brackets, e.g. [2001:db8::1]:443");
      }
      host = colon < 0 ? s : s.substring(0, colon);
      ports = colon < 0 ? "*" : s.substring(colon + 1);
    }
    int[] range = ports(ports, entry);
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    if (h.equals("*")) {
      return new EgressRule(entry, Kind.ANY_NAME, null, null, range[0], range[1]);
    }
    if (h.contains(":") || h.matches("[0-9./]+")) {
      try {
        return new EgressRule(entry, Kind.NETWORK, null, AddressRange.parse(h), range[0], range[1]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("'" + entry + "': " + e.getMessage());
      }
    }
    if (h.startsWith("*.")) {
      checkName(h.substring(2), entry);
      return new EgressRule(entry, Kind.SUFFIX, h.substring(1), null, range[0], range[1]);
    }
    checkName(h, entry);
    return new EgressRule(entry, Kind.NAME, h, null, range[0], range[1]);
  }

  /** True when this entry covers a request for {@code host} (a name, lower case) on {@code port}. */
  public boolean matchesName(String host, int port) {
    if (!portMatches(port)) {
      return false;
    }
    return switch (kind) {
      case ANY_NAME -> true;
      case NAME -> name.equals(host);
      case SUFFIX -> host.endsWith(name) && host.length() > name.length();
      case NETWORK -> false;
    };
  }

  /** True when this entry is an address range holding {@code address}, on {@code port}. */
  public boolean matchesAddress(InetAddress address, int port) {
    if (kind != Kind.NETWORK || !portMatches(port)) {
      return false;
    }
    return range.contains(address);
  }

  /** The entry as written. */
  @Override
  public String toString() {
    return text;
  }

  private boolean portMatches(int port) {
    return port >= portLow && port <= portHigh;
  }

  private static int[] ports(String ports, String entry) {
    if (ports.equals("*")) {
      return new int[] {1, 65535};
    }
    try {
      int dash = ports.indexOf('-');
      int low = Integer.parseInt(dash < 0 ? ports : ports.substring(0, dash));
      int high = dash < 0 ? low : Integer.parseInt(ports.substring(dash + 1));
      if (low < 1 || high > 65535 || low > high) {
        throw new NumberFormatException();
      }
      return new int[] {low, high};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + entry + "': ports must be *, N or N-M within 1-65535");
    }
  }

  private static void checkName(String name, String entry) {
    if (name.length() > 253 || name.isEmpty()) {
      throw new IllegalArgumentException("'" + entry + "': not a host name");
    }
    for (String label : name.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        throw new IllegalArgumentException("'" + entry + "': not a host name (label '" + label + "')");
      }
    }
  }
}
