package dev.paddock.runtime.egress;

import java.net.InetAddress;
import java.util.List;

/**
 * Addresses a jail must not reach through a public name unless the operator says so: the host
 * itself, its networks, cloud metadata services. (Java reads IPv4-mapped IPv6 addresses as IPv4, so
 * those meet the IPv4 ranges.) Checked on every address a name resolves to,
 * after resolution, so a public name pointing inside (DNS rebinding) is refused too.
 */
final class SpecialAddresses {
  /** Each range with what it is, for the denial's detail. */
  private record Named(AddressRange range, String what) {}

  private static final List<Named> RANGES = List.of(
      named("0.0.0.0/8", "\"this network\""),
      named("10.0.0.0/8", "private"),
      named("100.64.0.0/10", "carrier-grade NAT"),
      named("127.0.0.0/8", "loopback"),
      named("169.254.169.254/32", "cloud metadata"),
      named("169.254.0.0/16", "link-local"),
      named("172.16.0.0/12", "private"),
      named("192.0.0.0/24", "IETF protocol assignments"),
      named("192.0.2.0/24", "documentation"),
      named("192.168.0.0/16", "private"),
      named("198.18.0.0/15", "benchmarking"),
      named("198.51.100.0/24", "documentation"),
      named("203.0.113.0/24", "documentation"),
      named("224.0.0.0/4", "multicast"),
      named("240.0.0.0/4", "reserved"),
      named("::/128", "unspecified"),
      named("::1/128", "loopback"),
      named("64:ff9b::/96", "NAT64"),
      named("100::/64", "discard"),
      named("2001:db8::/32", "documentation"),
      named("fc00::/7", "unique local (private)"),
      named("fd00:ec2::254/128", "cloud metadata"),
      named("fe80::/10", "link-local"),
      named("ff00::/8", "multicast"));

  private SpecialAddresses() {}

  /** What kind of special address {@code address} is ("private", "loopback", ...), or null for a public one. */
  static String kind(InetAddress address) {
    for (Named n : RANGES) {
      if (n.range().contains(address)) {
        return n.what();
      }
    }
    return null;
  }

  private static Named named(String cidr, String what) {
    return new Named(AddressRange.parse(cidr), what);
  }
}
