package dev.paddock.sandbox.linux.internal;

import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.TcpSockets;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * {@link TcpSockets} over jnr-ffi; descriptors are owned by {@link LinuxSyscalls#system()}.
 * Socket addresses are laid out by hand: the family in host byte order (little-endian on x86_64
 * and arm64), the port in network byte order.
 */
public final class JnrTcpSockets implements TcpSockets {
  private static final int SOCK_STREAM = 1;
  private static final int SOCK_NONBLOCK = 04000;
  private static final int SOCK_CLOEXEC = 02000000;
  private static final int SOL_SOCKET = 1;
  private static final int SO_TYPE = 3;
  private static final int SO_ERROR = 4;
  private static final int SO_RCVTIMEO = 20;
  private static final int SO_ACCEPTCONN = 30;
  private static final int SO_DOMAIN = 39;
  private static final int IPPROTO_TCP = 6;
  private static final int TCP_NODELAY = 1;
  private static final int SHUT_WR = 1;
  private static final int SHUT_RDWR = 2;
  private static final int SPLICE_F_MOVE = 1;
  private static final int F_SETPIPE_SZ = 1031;
  private static final int O_CLOEXEC = 02000000;
  private static final int EINTR = 4;
  private static final int EINPROGRESS = 115;

  private static final class Holder {
    static final JnrTcpSockets INSTANCE = new JnrTcpSockets(LinuxSyscalls.system());
  }

  private final SocketLibC libc;
  private final Runtime runtime;
  private final LinuxSyscalls linux;

  private JnrTcpSockets(LinuxSyscalls linux) {
    this.libc = LibraryLoader.create(SocketLibC.class).load("c");
    this.runtime = Runtime.getRuntime(libc);
    this.linux = linux;
  }

  /** The process-wide binding. */
  public static JnrTcpSockets instance() {
    return Holder.INSTANCE;
  }

  @Override
  public SocketInfo describe(Fd fd) throws NativeException {
    int n = fd.number();
    int family = intOption(n, SOL_SOCKET, SO_DOMAIN, "getsockopt(SO_DOMAIN)");
    boolean stream = intOption(n, SOL_SOCKET, SO_TYPE, "getsockopt(SO_TYPE)") == SOCK_STREAM;
    boolean listening = intOption(n, SOL_SOCKET, SO_ACCEPTCONN, "getsockopt(SO_ACCEPTCONN)") != 0;
    if (family != AF_INET && family != AF_INET6) {
      return new SocketInfo(listening, family, stream, new byte[0], 0);
    }
    byte[] addr = new byte[28];
    int[] len = {addr.length};
    if (libc.getsockname(n, addr, len) != 0) {
      throw new NativeException("getsockname", runtime.getLastError());
    }
    int port = (addr[2] & 0xff) << 8 | (addr[3] & 0xff);
    byte[] ip = family == AF_INET ? Arrays.copyOfRange(addr, 4, 8) : Arrays.copyOfRange(addr, 8, 24);
    return new SocketInfo(listening, family, stream, ip, port);
  }

  @Override
  public Fd accept(Fd listener) throws NativeException {
    while (true) {
      int fd = libc.accept4(listener.number(), null, null, SOCK_CLOEXEC);
      if (fd >= 0) {
        return new Fd(fd, linux);
      }
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("accept4", errno);
      }
    }
  }

  @Override
  public Fd listen(InetAddress address, int backlog) throws NativeException {
    boolean v4 = address instanceof Inet4Address;
    byte[] sockaddr = sockaddr(address.getAddress(), 0, v4);
    int s = libc.socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
      throw new NativeException("socket", runtime.getLastError());
    }
    Fd fd = new Fd(s, linux);
    if (libc.bind(s, sockaddr, sockaddr.length) != 0 || libc.listen(s, backlog) != 0) {
      int errno = runtime.getLastError();
      fd.close();
      throw new NativeException("bind/listen", errno);
    }
    return fd;
  }

  @Override
  public Fd connect(InetAddress address, int port, int timeoutMillis) throws NativeException {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be 1-65535, got " + port);
    }
    boolean v4 = address instanceof Inet4Address;
    byte[] sockaddr = sockaddr(address.getAddress(), port, v4);
    int s = libc.socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
      throw new NativeException("socket", runtime.getLastError());
    }
    Fd fd = new Fd(s, linux);
    try {
      if (libc.connect(s, sockaddr, sockaddr.length) != 0) {
        int errno = runtime.getLastError();
        if (errno != EINPROGRESS && errno != EINTR) {
          throw new NativeException("connect", errno);
        }
        if (!linux.pollWritable(fd, timeoutMillis)) {
          throw new NativeException("connect", dev.paddock.sandbox.linux.Errno.ETIMEDOUT.code());
        }
        int error = intOption(s, SOL_SOCKET, SO_ERROR, "getsockopt(SO_ERROR)");
        if (error != 0) {
          throw new NativeException("connect", error);
        }
      }
      linux.setNonBlocking(fd, false);
      setInt(s, IPPROTO_TCP, TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)");
      return fd;
    } catch (NativeException | RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  @Override
  public void setReceiveTimeout(Fd fd, int millis) throws NativeException {
    // struct timeval { long tv_sec; long tv_usec; } as four ints, little-endian
    int[] timeval = {millis / 1000, 0, (millis % 1000) * 1000, 0};
    if (libc.setsockopt(fd.number(), SOL_SOCKET, SO_RCVTIMEO, timeval, 16) != 0) {
      throw new NativeException("setsockopt(SO_RCVTIMEO)", runtime.getLastError());
    }
  }

  @Override
  public void setNoDelay(Fd fd) throws NativeException {
    setInt(fd.number(), IPPROTO_TCP, TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)");
  }

  @Override
  public Fd[] relayPipe(int bytes) throws NativeException {
    int[] fds = new int[2];
    if (libc.pipe2(fds, O_CLOEXEC) != 0) {
      throw new NativeException("pipe2", runtime.getLastError());
    }
    Fd[] pipe = {new Fd(fds[0], linux), new Fd(fds[1], linux)};
    // A larger pipe moves more per splice; past the user's pipe quota the kernel refuses, and the
    // default 64 KiB still works.
    libc.fcntl(fds[1], F_SETPIPE_SZ, bytes);
    return pipe;
  }

  @Override
  public long relay(Fd from, Fd[] pipe, Fd to, int maxBytes) throws NativeException {
    long got;
    while ((got = libc.splice(from.number(), null, pipe[1].number(), null, maxBytes, SPLICE_F_MOVE)) < 0) {
      int errno = runtime.getLastError();
      if (errno != EINTR) {
        throw new NativeException("splice", errno);
      }
    }
    long left = got;
    while (left > 0) {
      long put = libc.splice(pipe[0].number(), null, to.number(), null, left, SPLICE_F_MOVE);
      if (put < 0) {
        int errno = runtime.getLastError();
        if (errno == EINTR) {
          continue;
        }
        throw new NativeException("splice", errno);
      }
      left -= put;
    }
    return got;
  }

  @Override
  public void shutdown(Fd fd, boolean writeOnly) {
    if (fd.isOpen()) {
      // ENOTCONN once the peer is gone is fine: there is nothing left to shut down.
      libc.shutdown(fd.rawNumberForLogs(), writeOnly ? SHUT_WR : SHUT_RDWR);
    }
  }

  private int intOption(int fd, int level, int option, String call) throws NativeException {
    int[] value = new int[1];
    int[] len = {4};
    if (libc.getsockopt(fd, level, option, value, len) != 0) {
      throw new NativeException(call, runtime.getLastError());
    }
    return value[0];
  }

  private void setInt(int fd, int level, int option, int value, String call) throws NativeException {
    if (libc.setsockopt(fd, level, option, new int[] {value}, 4) != 0) {
      throw new NativeException(call, runtime.getLastError());
    }
  }

  private static byte[] sockaddr(byte[] ip, int port, boolean v4) {
    byte[] a = new byte[v4 ? 16 : 28];
    int family = v4 ? AF_INET : AF_INET6;
    a[0] = (byte) family;
    a[1] = (byte) (family >> 8);
    a[2] = (byte) (port >> 8);
    a[3] = (byte) port;
    System.arraycopy(ip, 0, a, v4 ? 4 : 8, ip.length);
    return a;
  }
}
