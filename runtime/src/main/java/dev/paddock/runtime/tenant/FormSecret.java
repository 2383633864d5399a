package dev.paddock.runtime.tenant;

import java.net.URI;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where the operator lets one of a tenant's secrets be put into a browser's password field
 * (BrowserService.Type with a secret): only on pages of {@code origin}, so a login form of that
 * site gets it and no other page can ask for it.
 *
 * @param secret the secret's name in the tenant's vault
 * @param origin the page origin as a browser writes it ({@code location.origin}): scheme, host and
 *               a port other than the scheme's default, e.g. {@code https://login.example.com}
 */
public record FormSecret(String secret, String origin) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,127}");

  public FormSecret {
    if (secret == null || !NAME.matcher(secret).matches()) {
      throw new IllegalArgumentException("browser formSecrets: secret must be a secret's name, got '" + secret + "'");
    }
    origin = normalize(secret, origin);
  }

  /** {@code origin} as {@code location.origin} shows it, or why it is not one. */
  private static String normalize(String secret, String origin) {
    URI uri;
    try {
      uri = new URI(origin == null ? "" : origin);
    } catch (java.net.URISyntaxException e) {
      uri = null;
    }
    String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getUserInfo() != null
        || !(uri.getRawPath() == null || uri.getRawPath().isEmpty()) || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("browser formSecrets: origin of secret " + secret
          + " must be scheme://host[:port] with no path, e.g. https://login.example.com; got '" + origin + "'");
    }
    int port = uri.getPort();
    boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
  }
}
