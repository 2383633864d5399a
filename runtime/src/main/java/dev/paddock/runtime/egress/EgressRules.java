package dev.paddock.runtime.egress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * An allow-list and a deny-list (see {@link EgressRule} for the entries).
 *
 * @param allow destinations that may be reached; empty allows nothing
 * @param deny  destinations that may not, whatever {@code allow} says
 */
public record EgressRules(List<EgressRule> allow, List<EgressRule> deny) {
  /** Most entries per list. */
  public static final int MAX_ENTRIES = 256;
  /** Nothing allowed: the default of a tenant without egress settings. */
  public static final EgressRules NONE = new EgressRules(List.of(), List.of());

  public EgressRules {
    allow = List.copyOf(allow);
    deny = List.copyOf(deny);
  }

  /**
   * Parses both lists; an IllegalArgumentException names the bad entry as
   * {@code <field>.allow[i]} or {@code <field>.deny[i]} and says what is wrong.
   */
  public static EgressRules parse(List<String> allow, List<String> deny, String field) {
    return new EgressRules(parseList(allow, field + ".allow"), parseList(deny, field + ".deny"));
  }

  private static List<EgressRule> parseList(List<String> entries, String field) {
    if (entries == null) {
      return List.of();
    }
    if (entries.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException(field + ": at most " + MAX_ENTRIES + " entries");
    }
    List<EgressRule> out = new ArrayList<>(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      try {
        out.add(EgressRule.parse(entries.get(i)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(field + "[" + i + "]: " + e.getMessage());
      }
    }
    return out;
  }

  /** The allow entry covering a request for {@code host} (a lower-case name) on {@code port}, or null. */
  EgressRule allowingName(String host, int port) {
    return allow.stream().filter(r -> r.matchesName(host, port)).findFirst().orElse(null);
  }

  /** The allow entry covering a request for the raw address {@code address}, or null. */
  EgressRule allowingAddress(InetAddress address, int port) {
    return allow.stream().filter(r -> r.matchesAddress(address, port)).findFirst().orElse(null);
  }

  /** The deny entry covering the name, or null. */
  EgressRule denyingName(String host, int port) {
    return deny.stream().filter(r -> r.matchesName(host, port)).findFirst().orElse(null);
  }

  /** The deny entry covering the address, or null. */
  EgressRule denyingAddress(InetAddress address, int port) {
    return deny.stream().filter(r -> r.matchesAddress(address, port)).findFirst().orElse(null);
  }
}
