package dev.paddock.runtime.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 or IPv6 address range in CIDR form ({@code 10.0.0.0/8}, {@code fe80::/10}; a bare
 * address is a range of one).
 */
public final class AddressRange {
  private final byte[] network;
  private final int bits;
  private final String text;

  private AddressRange(byte[] network, int bits, String text) {
    this.network = network;
    this.bits = bits;
    this.text = text;
  }

  /** Parses {@code ADDRESS[/BITS]}; IllegalArgumentException says what is wrong. */
  public static AddressRange parse(String cidr) {
    int slash = cidr.indexOf('/');
    byte[] ip = literal(slash < 0 ? cidr : cidr.substring(0, slash));
    if (ip == null) {
      throw new IllegalArgumentException("'" + cidr + "' is not an IP address or CIDR range");
    }
    int bits = ip.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(cidr.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > ip.length * 8) {
        throw new IllegalArgumentException("'" + cidr + "': the prefix length must be 0-" + ip.length * 8);
      }
    }
    return new AddressRange(mask(ip, bits), bits, cidr);
  }

  /** True when {@code address} is in this range (an IPv4 address is never in an IPv6 range). */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    return a.length == network.length && java.util.Arrays.equals(mask(a, bits), network);
  }

  @Override
  public String toString() {
    return text;
  }

  /**
   * The bytes of an IP address literal (dotted quad or IPv6), or null when {@code s} is not one.
   * Never a name lookup: InetAddress is only given strings that cannot be names.
   */
  public static byte[] literal(String s) {
    boolean v4 = s.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    boolean v6 = s.contains(":") && s.matches("[0-9a-fA-F:.]+");
    if (!v4 && !v6) {
      return null;
    }
    try {
      byte[] b = InetAddress.getByName(s).getAddress();
      return v4 && b.length != 4 ? null : b;
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static byte[] mask(byte[] ip, int bits) {
    byte[] out = ip.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, bits - i * 8));
      out[i] = (byte) (out[i] & (0xff << (8 - keep)));
    }
    return out;
  }
}
