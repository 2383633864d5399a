package dev.paddock.runtime.egress;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One connection request from a tool, as read from the jail: where it wants to go and how it asked.
 * Three forms are served: HTTP CONNECT (a tunnel, {@code https://} through HTTPS_PROXY), an HTTP
 * request with an absolute {@code http://} URL (plain HTTP through HTTP_PROXY; the proxy
 * forwards it in origin form, and may add a bound secret header), and SOCKS5 CONNECT (ALL_PROXY,
 * with the name resolved by the proxy: socks5h). Nothing else: SOCKS4, BIND, UDP and
 * {@code https://} URLs sent as plain requests are refused as BAD_REQUEST.
 *
 * @param protocol "connect", "http" or "socks5"
 * @param host     the name (lower case, no trailing dot) or the address literal asked for
 * @param port     1-65535
 * @param literal  the address when {@code host} is a literal, else null
 * @param http     for "http": the request head to forward (its headers as sent)
 * @param portGiven false when the port is the scheme's default (an http:// URL without one)
 */
record ProxyRequest(String protocol, String host, int port, InetAddress literal, HttpHead http, boolean portGiven) {
  /** Largest request head the proxy reads, bytes. */
  static final int MAX_HEAD_BYTES = 32 * 1024;

  /** An HTTP request head: request line parts and headers in order. */
  record HttpHead(String method, String target, String version, List<String[]> headers) {
    /** The head in origin form for the destination, with {@code extra} headers set (replacing any of their names). */
    byte[] forward(String path, List<String[]> extra) {
      StringBuilder b = new StringBuilder(256).append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      boolean hasHost = false;
      for (String[] h : headers) {
        String name = h[0].toLowerCase(Locale.ROOT);
        // Hop-by-hop headers and the proxy's own are not forwarded; each request gets its own
        // connection (Connection: close), so the proxy never has to find where a response ends.
        if (name.startsWith("proxy-") || name.equals("connection") || name.equals("keep-alive") || name.equals("te")
            || name.equals("upgrade") || extra.stream().anyMatch(e -> e[0].equalsIgnoreCase(name))) {
          continue;
        }
        hasHost |= name.equals("host");
        b.append(h[0]).append(": ").append(h[1]).append("\r\n");
      }
      if (!hasHost) {
        throw new IllegalStateException("checked at parse");
      }
      for (String[] e : extra) {
        b.append(e[0]).append(": ").append(e[1]).append("\r\n");
      }
      b.append("Connection: close\r\n\r\n");
      return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
  }

  /** Reads one request; ProxyRefusal.BadRequest when it is malformed or of a kind not served. */
  static ProxyRequest read(ClientStream in) throws IOException {
    int first = in.peek();
    if (first == 5) {
      return readSocks5(in);
    }
    if (first == 4) {
      throw new ProxyRefusal.BadRequest("SOCKS4 is not served: use socks5h://");
    }
    return readHttp(in);
  }

  private static ProxyRequest readHttp(ClientStream in) throws IOException {
    String head = new String(in.readHead(), StandardCharsets.ISO_8859_1);
    String[] lines = head.split("\r?\n");
    String[] line = lines[0].split(" ", -1);
    if (line.length != 3 || !line[2].startsWith("HTTP/1.") || !line[0].matches("[A-Z]{1,20}")) {
      throw new ProxyRefusal.BadRequest("not an HTTP/1.x request line");
    }
    List<String[]> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isEmpty()) {
        continue;
      }
      int colon = lines[i].indexOf(':');
      if (colon <= 0 || lines[i].startsWith(" ") || lines[i].startsWith("\t") || headers.size() >= 100) {
        throw new ProxyRefusal.BadRequest("a malformed header line, or over 100 headers");
      }
      headers.add(new String[] {lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim()});
    }
    HttpHead parsed = new HttpHead(line[0], line[1], line[2], headers);
    if (line[0].equals("CONNECT")) {
      HostPort hp = hostPort(line[1], -1);
      return new ProxyRequest("connect", hp.host(), hp.port(), hp.literal(), null, true);
    }
    String target = line[1];
    if (!target.regionMatches(true, 0, "http://", 0, 7)) {
      throw new ProxyRefusal.BadRequest(target.regionMatches(true, 0, "https://", 0, 8)
          ? "https:// URLs go through CONNECT (HTTPS_PROXY), not as plain requests"
          : "a proxy request needs an absolute http:// URL");
    }
    int slash = target.indexOf('/', 7);
    String authority = slash < 0 ? target.substring(7) : target.substring(7, slash);
    if (authority.contains("@")) {
      throw new ProxyRefusal.BadRequest("credentials in the URL are not forwarded");
    }
    HostPort hp = hostPort(authority, 80);
    if (headers.stream().noneMatch(h -> h[0].equalsIgnoreCase("host"))) {
      headers.add(new String[] {"Host", authority});
    }
    return new ProxyRequest("http", hp.host(), hp.port(), hp.literal(), parsed, hp.portGiven());
  }

  /** The path and query of an absolute-form request, "/" when it has none. */
  static String originForm(String target) {
    int slash = target.indexOf('/', 7);
    return slash < 0 ? "/" : target.substring(slash);
  }

  private static ProxyRequest readSocks5(ClientStream in) throws IOException {
    in.readByte(); // version 5
    int methods = in.readByte();
    byte[] offered = in.readBytes(methods);
    boolean noAuth = false;
    for (byte m : offered) {
      noAuth |= m == 0;
    }
    if (!noAuth) {
      in.write(new byte[] {5, (byte) 0xff});
      throw new ProxyRefusal.BadRequest("SOCKS5 without the no-authentication method");
    }
    in.write(new byte[] {5, 0});
    in.socksGreeted = true;
    byte[] req = in.readBytes(4);
    if (req[0] != 5) {
      throw new ProxyRefusal.BadRequest("a SOCKS5 request with version " + req[0]);
    }
    if (req[1] != 1) {
      throw new Socks5Refusal(7, "only SOCKS5 CONNECT is served (not BIND or UDP ASSOCIATE)");
    }
    String host;
    InetAddress literal = null;
    switch (req[3]) {
      case 1, 4 -> {
        literal = InetAddress.getByAddress(in.readBytes(req[3] == 1 ? 4 : 16));
        host = literal.getHostAddress();
      }
      case 3 -> {
        host = new String(in.readBytes(in.readByte()), StandardCharsets.US_ASCII);
        HostPort hp = hostPort(host.contains(":") ? "[" + host + "]" : host, 1);
        host = hp.host();
        literal = hp.literal();
      }
      default -> throw new Socks5Refusal(8, "SOCKS5 address type " + req[3] + " is not known");
    }
    byte[] p = in.readBytes(2);
    int port = (p[0] & 0xff) << 8 | (p[1] & 0xff);
    if (port == 0) {
      throw new ProxyRefusal.BadRequest("port 0");
    }
    return new ProxyRequest("socks5", host, port, literal, null, true);
  }

  /** A SOCKS5 request refused with a specific reply code. */
  static final class Socks5Refusal extends ProxyRefusal.BadRequest {
    private static final long serialVersionUID = 1L;
    final int code;

    Socks5Refusal(int code, String detail) {
      super(detail);
      this.code = code;
    }
  }

  private record HostPort(String host, int port, InetAddress literal, boolean portGiven) {}

  /** Splits {@code host[:port]} / {@code [v6][:port]}; a missing port is {@code defaultPort} (-1: required). */
  private static HostPort hostPort(String authority, int defaultPort) throws ProxyRefusal {
    String host;
    String port = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw new ProxyRefusal.BadRequest("a malformed IPv6 address");
      }
      host = authority.substring(1, close);
      if (close + 1 < authority.length()) {
        if (authority.charAt(close + 1) != ':') {
          throw new ProxyRefusal.BadRequest("a malformed host:port");
        }
        port = authority.substring(close + 2);
      }
    } else {
      int colon = authority.lastIndexOf(':');
      host = colon < 0 ? authority : authority.substring(0, colon);
      port = colon < 0 ? null : authority.substring(colon + 1);
    }
    int p;
    if (port == null) {
      if (defaultPort < 0) {
        throw new ProxyRefusal.BadRequest("CONNECT needs host:port");
      }
      p = defaultPort;
    } else {
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        p = -1;
      }
      if (p < 1 || p > 65535) {
        throw new ProxyRefusal.BadRequest("the port must be 1-65535");
      }
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    byte[] ip = AddressRange.literal(h);
    if (ip != null) {
      try {
        InetAddress a = InetAddress.getByAddress(ip);
        return new HostPort(a.getHostAddress(), p, a, port != null);
      } catch (UnknownHostException e) {
        throw new ProxyRefusal.BadRequest("a malformed address");
      }
    }
    if (h.isEmpty() || h.length() > 253 || !h.matches("[a-z0-9_.-]+") || h.startsWith(".") || h.contains("..")) {
      throw new ProxyRefusal.BadRequest("not a host name");
    }
    return new HostPort(h, p, null, port != null);
  }

  /** The same request to {@code newPort}. */
  ProxyRequest toPort(int newPort) {
    return new ProxyRequest(protocol, host, newPort, literal, http, true);
  }

}
