package dev.paddock.sandbox.linux;

import dev.paddock.sandbox.linux.internal.JnrTcpSockets;
import java.net.InetAddress;

/**
 * TCP sockets as plain descriptors, for the egress proxy: the jail's listeners arrive as
 * descriptors from paddock-init, and bytes move between them and the host's own connections with
 * splice(2), which Java's socket channels cannot do. Every descriptor returned is close-on-exec
 * and blocking, and is closed through {@link LinuxSyscalls#close}.
 */
public interface TcpSockets {
  /** AF_INET. */
  int AF_INET = 2;
  /** AF_INET6. */
  int AF_INET6 = 10;

  /**
   * What a descriptor is, as the kernel says (SO_ACCEPTCONN, SO_DOMAIN, SO_TYPE, getsockname).
   *
   * @param listening true for a socket in listen(2)
   * @param family    AF_INET, AF_INET6, AF_UNIX (1), ...
   * @param stream    true for SOCK_STREAM
   * @param address   the bound address (4 or 16 bytes; empty for other families)
   * @param port      the bound port (0 for other families)
   */
  record SocketInfo(boolean listening, int family, boolean stream, byte[] address, int port) {}

  /** Describes {@code fd}; ENOTSOCK when it is not a socket. */
  SocketInfo describe(Fd fd) throws NativeException;

  /**
   * A TCP listener on {@code address} at a port the kernel picks ({@link #describe} gives it), for
   * {@link #accept}. The proxy's own listeners come from the jails; this is for the host's tests and
   * benchmarks that put a relay of their own beside the proxy.
   */
  Fd listen(InetAddress address, int backlog) throws NativeException;

  /** accept4(2): the next connection (blocking until there is one), close-on-exec. */
  Fd accept(Fd listener) throws NativeException;

  /**
   * A TCP connection to {@code address:port}, or NativeException (ECONNREFUSED, ENETUNREACH,
   * ETIMEDOUT when {@code timeoutMillis} passed first, ...). TCP_NODELAY is set: the proxy forwards
   * what it reads at once, so Nagle would only add latency to small writes.
   */
  Fd connect(InetAddress address, int port, int timeoutMillis) throws NativeException;

  /** SO_RCVTIMEO: a blocking read that waits longer fails with EAGAIN. 0 = wait forever. */
  void setReceiveTimeout(Fd fd, int millis) throws NativeException;

  /** TCP_NODELAY on an accepted connection. */
  void setNoDelay(Fd fd) throws NativeException;

  /** A pipe for {@link #relay}: {read end, write end}, close-on-exec, at least {@code bytes} of room. */
  Fd[] relayPipe(int bytes) throws NativeException;

  /**
   * Moves up to {@code maxBytes} from socket {@code from} to socket {@code to} through {@code pipe}
   * with splice(2), so the bytes never enter the JVM. Blocks until some bytes arrive; returns how
   * many were moved (all of them are written before it returns), or 0 at end of input. An error
   * of either side (ECONNRESET, EPIPE) is a NativeException.
   */
  long relay(Fd from, Fd[] pipe, Fd to, int maxBytes) throws NativeException;

  /** shutdown(2): {@code write} only the sending side (the peer sees end of input), else both. */
  void shutdown(Fd fd, boolean writeOnly);

  /** The binding backed by the running libc. */
  static TcpSockets system() {
    return JnrTcpSockets.instance();
  }
}
