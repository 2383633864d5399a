package dev.paddock.sandbox.linux.internal;

import java.nio.ByteBuffer;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The libc functions Paddock calls, under their C names (as jnr-posix does). Not API: it lives in
 * {@code internal}; it is public only because jnr-ffi generates its implementation in another class
 * loader, which cannot implement a package-private interface.
 *
 * <p>{@code size_t}/{@code ssize_t} are {@code long} (x86_64 and arm64 are LP64). Structures are
 * passed as {@link Pointer}s to memory laid out by {@link JnrLinuxSyscalls}. Variadic functions
 * ({@code fcntl}, {@code syscall}) get one fixed signature per use, which is sound on x86_64 and
 * arm64 for integer arguments.
 */
public interface LibC {
  int kill(int pid, int sig);

  int open(String path, int flags);

  long read(int fd, byte[] buf, long count);

  long read(int fd, Pointer buf, long count);

  /** write(2) from a heap buffer's position, at most {@code count} bytes. */
  long write(int fd, @In ByteBuffer buf, long count);

  int close(int fd);

  int pipe2(@Out int[] fds, int flags);

  int socketpair(int domain, int type, int protocol, @Out int[] sv);

  int setsockopt(int fd, int level, int optname, @In int[] optval, int optlen);

  int ioctl(int fd, long request, @Out int[] arg);

  /** fcntl(2) with an int argument (F_GETFL takes none; the extra one is ignored). */
  int fcntl(int fd, int cmd, int arg);

  long sendmsg(int fd, Pointer msg, int flags);

  long recvmsg(int fd, Pointer msg, int flags);

  /** {@code struct pollfd *fds}, {@code nfds_t nfds} (unsigned long). */
  int poll(Pointer fds, long nfds, int timeout);

  Pointer calloc(long nmemb, long size);

  void free(Pointer ptr);

  int posix_spawn(
      Pointer pid, Pointer path, Pointer fileActions, Pointer attrp, Pointer argv, Pointer envp);

  int posix_spawn_file_actions_init(Pointer fileActions);

  int posix_spawn_file_actions_destroy(Pointer fileActions);

  int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newfd);

  int posix_spawn_file_actions_addopen(
      Pointer fileActions, int fd, Pointer path, int oflag, int mode);

  /** glibc 2.34+. */
  int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

  int posix_spawnattr_init(Pointer attr);

  int posix_spawnattr_destroy(Pointer attr);

  int posix_spawnattr_setflags(Pointer attr, short flags);

  int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigdefault);

  int posix_spawnattr_setsigmask(Pointer attr, Pointer sigmask);

  int sigemptyset(Pointer set);

  /** {@code idtype_t idtype, id_t id, siginfo_t *infop, int options}. */
  int waitid(int idtype, int id, Pointer infop, int options);

  /** syscall(2) with two int arguments, e.g. pidfd_open(pid, flags). */
  long syscall(long number, int a, int b);

  /** syscall(2) with int, int, pointer, int, e.g. pidfd_send_signal(pidfd, sig, info, flags). */
  long syscall(long number, int a, int b, Pointer c, int d);

  int epoll_create1(int flags);

  int epoll_ctl(int epfd, int op, int fd, Pointer event);

  int epoll_wait(int epfd, Pointer events, int maxevents, int timeout);
}
