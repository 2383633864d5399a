package dev.paddock.sandbox.jail;

import dev.paddock.sandbox.linux.Fd;

/**
 * A session jail's two listening sockets on its own loopback, made by paddock-init and handed to
 * the host: the jail's only way out. Whoever takes them ({@link SessionJail#takeEgressListeners})
 * accepts on them and closes them.
 *
 * @param http  127.0.0.1:3128 inside the jail: an HTTP proxy (CONNECT and absolute-form requests)
 * @param socks 127.0.0.1:1080 inside the jail: a SOCKS5 proxy
 */
public record EgressListeners(Fd http, Fd socks) {
  /** The ports the listeners have inside the jail; the jail's proxy variables name them. */
  public static final int HTTP_PORT = 3128;
  /** See {@link #HTTP_PORT}. */
  public static final int SOCKS_PORT = 1080;

  /** Closes both. */
  public void close() {
    http.close();
    socks.close();
  }
}
