package dev.paddock.runtime.egress;

/**
 * Where a tool asked to go, for events and records.
 *
 * @param host     the name or address literal asked for; "" when the request did not get that far
 * @param port     0 likewise
 * @param protocol "http", "connect", "socks5"; "" when the request could not be read
 */
public record ProxyTarget(String host, int port, String protocol) {
  static final ProxyTarget UNKNOWN = new ProxyTarget("", 0, "");
}
