package dev.paddock.sandbox.linux.internal;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The libc socket functions behind {@link JnrTcpSockets}, under their C names. Not API; public only
 * because jnr-ffi implements it in another class loader. Socket addresses are passed as byte
 * arrays laid out as {@code struct sockaddr_in}/{@code sockaddr_in6}.
 */
public interface SocketLibC {
  int socket(int domain, int type, int protocol);

  int connect(int fd, @In byte[] addr, int addrlen);

  int bind(int fd, @In byte[] addr, int addrlen);

  int listen(int fd, int backlog);

  int accept4(int fd, Pointer addr, Pointer addrlen, int flags);

  int getsockopt(int fd, int level, int optname, @Out int[] optval, @In @Out int[] optlen);

  int setsockopt(int fd, int level, int optname, @In int[] optval, int optlen);

  int getsockname(int fd, @Out byte[] addr, @In @Out int[] addrlen);

  long splice(int fdIn, Pointer offIn, int fdOut, Pointer offOut, long len, int flags);

  int shutdown(int fd, int how);

  int pipe2(@Out int[] fds, int flags);

  /** fcntl(2) with an int argument (F_SETPIPE_SZ). */
  int fcntl(int fd, int cmd, int arg);
}
