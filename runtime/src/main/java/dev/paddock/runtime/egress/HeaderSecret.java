package dev.paddock.runtime.egress;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where the operator lets one secret go as a request header: the egress proxy adds
 * {@code header: prefix + value} to plain http:// requests for {@code host} made through the
 * jail's HTTP proxy, replacing any header of that name the tool sent. The value never enters the
 * jail. (An https:// request is a CONNECT tunnel the proxy does not open, so it cannot add headers
 * to it; with {@code https} the tool asks for http:// and the proxy makes the TLS connection.)
 *
 * @param secret the secret's name in the tenant's vault
 * @param host   the one host name (exact, lower case) whose requests get it
 * @param header the header's name, e.g. {@code Authorization}
 * @param prefix text before the value, e.g. {@code "Bearer "}; default ""
 * @param https  true: the proxy sends such a request on over TLS (to port 443 unless the URL names
 *               one), checking the host's certificate, so a tool asks for {@code http://host/...}
 *               and the secret still only travels encrypted; default false (plain HTTP)
 */
public record HeaderSecret(String secret, String host, String header, String prefix, boolean https) {
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  /** A binding for plain HTTP. */
  public HeaderSecret(String secret, String host, String header, String prefix) {
    this(secret, host, header, prefix, false);
  }

  public HeaderSecret {
    if (secret == null || !NAME.matcher(secret).matches()) {
      throw new IllegalArgumentException("secret must be a secret's name ([A-Za-z0-9._-], at most 128 characters)");
    }
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("host is required for secret " + secret);
    }
    EgressRule rule = EgressRule.parse(host);
    if (!rule.matchesName(host.toLowerCase(Locale.ROOT), 80) || host.startsWith("*")) {
      throw new IllegalArgumentException("host must be one exact host name for secret " + secret + ", got '" + host + "'");
    }
    host = host.toLowerCase(Locale.ROOT);
    if (header == null || !TOKEN.matcher(header).matches()) {
      throw new IllegalArgumentException("header must be an HTTP header name for secret " + secret);
    }
    prefix = prefix == null ? "" : prefix;
    if (prefix.chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
      throw new IllegalArgumentException("prefix must be printable ASCII for secret " + secret);
    }
  }
}
