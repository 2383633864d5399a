package dev.paddock.sandbox.linux.internal;

import dev.paddock.sandbox.linux.ExitStatus;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.ReceivedFrame;
import dev.paddock.sandbox.linux.Signal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link LinuxSyscalls} over jnr-ffi. Stateless apart from the loaded library, so one instance
 * serves every thread (jnr keeps errno per thread).
 *
 * <p>Structures are laid out by hand in {@link NativeArena} blocks, with the LP64 Linux layouts
 * (x86_64 and arm64 agree on all of them except {@code struct epoll_event}, packed on x86_64 only).
 */
public final class JnrLinuxSyscalls implements LinuxSyscalls {
  private static final Logger log = LoggerFactory.getLogger(JnrLinuxSyscalls.class);

  // <fcntl.h>
  private static final int O_RDONLY = 0;
  private static final int O_RDWR = 2;
  private static final int O_NONBLOCK = 04000;
  private static final int O_DIRECTORY = 0200000;
  private static final int O_CLOEXEC = 02000000;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int F_DUPFD_CLOEXEC = 1030;

  // errno
  private static final int EINTR = 4;
  private static final int EBADF = 9;
  private static final int EAGAIN = 11;
  private static final int ENOENT = 2;
  private static final int EPIPE = 32;
  private static final int ECONNRESET = 104;

  // <sys/socket.h>
  private static final int AF_UNIX = 1;
  private static final int SOCK_STREAM = 1;
  private static final int SOCK_SEQPACKET = 5;
  private static final int SOCK_CLOEXEC = O_CLOEXEC;
  private static final int SOL_SOCKET = 1;
  private static final int SO_SNDBUFFORCE = 32;
  private static final int SCM_RIGHTS = 1;
  private static final int MSG_CTRUNC = 0x8;
  private static final int MSG_TRUNC = 0x20;
  private static final int MSG_NOSIGNAL = 0x4000;
  private static final int MSG_CMSG_CLOEXEC = 0x40000000;
  private static final long FIONREAD = 0x541B;

  /** {@code struct msghdr}: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad). */
  private static final int MSGHDR_SIZE = 56;
  private static final int MSG_IOV = 16;
  private static final int MSG_IOVLEN = 24;
  private static final int MSG_CONTROL = 32;
  private static final int MSG_CONTROLLEN = 40;
  private static final int MSG_FLAGS = 48;
  /** {@code struct iovec}: base, len. */
  private static final int IOVEC_SIZE = 16;
  /** {@code struct cmsghdr}: size_t len, int level, int type; data follows, 8-byte aligned. */
  private static final int CMSGHDR_SIZE = 16;

  // <poll.h>: struct pollfd { int fd; short events; short revents; }
  private static final short POLLIN = 0x1;
  private static final short POLLOUT = 0x4;
  private static final short POLLERR = 0x8;
  private static final short POLLHUP = 0x10;
  private static final short POLLNVAL = 0x20;
  private static final short POLLRDHUP = 0x2000;
  private static final int POLLFD_SIZE = 8;

  // <spawn.h>, <signal.h>
  private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
  private static final short POSIX_SPAWN_SETSID = 0x80;
  /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336; room to spare. */
  private static final int SPAWN_FILE_ACTIONS_SIZE = 256;
  private static final int SPAWN_ATTR_SIZE = 512;
  /** glibc's sigset_t: 1024 bits, signal n at bit n - 1. */
  private static final int SIGSET_SIZE = 128;
  /**
   * Sources for the child's descriptors are first duplicated to numbers at least this high, so no
   * dup2 in the child overwrites a source a later dup2 still needs.
   */
  private static final int SPAWN_FD_FLOOR = 100;

  // <sys/wait.h>, siginfo_t
  private static final int P_PIDFD = 3;
  private static final int WNOHANG = 1;
  private static final int WEXITED = 4;
  private static final int SIGINFO_SIZE = 128;
  private static final int SI_CODE = 8;
  private static final int SI_PID = 16;
  private static final int SI_STATUS = 24;
  private static final int CLD_EXITED = 1;
  private static final int CLD_KILLED = 2;
  private static final int CLD_DUMPED = 3;

  // Generic syscall numbers, the same on x86_64 and arm64.
  private static final long SYS_PIDFD_SEND_SIGNAL = 424;
  private static final long SYS_PIDFD_OPEN = 434;

  // <sys/epoll.h>
  private static final int EPOLL_CLOEXEC = O_CLOEXEC;
  private static final int EPOLL_CTL_ADD = 1;
  private static final int EPOLL_CTL_DEL = 2;
  private static final int EPOLLIN = 0x1;
  private static final int EPOLLRDHUP = 0x2000;
  /** {@code struct epoll_event} is packed (12 bytes) on x86_64 only; elsewhere data is 8-aligned. */
  private static final boolean EPOLL_PACKED = "amd64".equals(System.getProperty("os.arch"))
      || "x86_64".equals(System.getProperty("os.arch"));
  private static final int EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
  private static final int EPOLL_DATA = EPOLL_PACKED ? 4 : 8;

  /** A kmsg record is at most about 8 KiB (PRINTK_MESSAGE_MAX); a read with a smaller buffer fails. */
  private static final int KMSG_RECORD_MAX = 16 * 1024;

  private static final class Holder {
    static final JnrLinuxSyscalls INSTANCE = new JnrLinuxSyscalls();
  }

  private final LibC libc;
  private final Runtime runtime;

  private JnrLinuxSyscalls() {
    libc = LibraryLoader.create(LibC.class).load("c");
    runtime = Runtime.getRuntime(libc);
  }

  /** The process-wide binding, loaded on first use. */
  public static JnrLinuxSyscalls instance() {
    return Holder.INSTANCE;
  }

  @Override
  public void sendSignal(long pid, Signal signal) throws NativeException {
    if (pid <= 0 || pid > Integer.MAX_VALUE) {
      // kill(0) and kill(-1) signal whole groups: never let a bad pid reach libc.
      throw new IllegalArgumentException("pid must be a single positive process id, got " + pid);
    }
    if (libc.kill((int) pid, signal.number()) != 0) {
      throw new NativeException("kill", runtime.getLastError());
    }
  }

  @Override
  public List<String> kernelLogRecords() throws NativeException {
    int fd = libc.open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      throw new NativeException("open(/dev/kmsg)", runtime.getLastError());
    }
    try {
      List<String> records = new ArrayList<>();
      byte[] buf = new byte[KMSG_RECORD_MAX];
      while (true) {
        long n = libc.read(fd, buf, buf.length);
        if (n > 0) {
          records.add(stripPrefix(new String(buf, 0, (int) n, StandardCharsets.UTF_8)));
          continue;
        }
        int errno = runtime.getLastError();
        if (n < 0 && errno == EPIPE) {
          continue; // records were overwritten while reading: the next read resumes at the oldest
        }
        if (n == 0 || errno == EAGAIN) {
          return records;
        }
        throw new NativeException("read(/dev/kmsg)", errno);
      }
    } finally {
      libc.close(fd);
    }
  }

  private static String stripPrefix(String record) {
    int semicolon = record.indexOf(';');
    String text = semicolon >= 0 ? record.substring(semicolon + 1) : record;
    int newline = text.indexOf('\n');
    return newline >= 0 ? text.substring(0, newline) : text;
  }

  // ---- descriptors ----------------------------------------------------------------------------

  @Override
  public Fd[] seqpacketPair(int hostSendBufferBytes) throws NativeException {
    if (hostSendBufferBytes <= 0) {
      throw new IllegalArgumentException("send buffer must be positive, got " + hostSendBufferBytes);
    }
    int[] sv = new int[2];
    if (libc.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
      throw lastError("socketpair");
    }
    Fd host = new Fd(sv[0], this);
    Fd child = new Fd(sv[1], this);
    boolean done = false;
    try {
      setNonBlocking(host, true);
      // The kernel doubles the value and refuses a record longer than (doubled buffer - 32 bytes),
      // so a record of hostSendBufferBytes fits. FORCE ignores wmem_max (needs CAP_NET_ADMIN).
      if (libc.setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, new int[] {hostSendBufferBytes}, 4) != 0) {
        throw lastError("setsockopt(SO_SNDBUFFORCE)");
      }
      done = true;
      return new Fd[] {host, child};
    } finally {
      if (!done) {
        close(host);
        close(child);
      }
    }
  }

  @Override
  public Fd[] streamPair() throws NativeException {
    int[] sv = new int[2];
    if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      throw lastError("socketpair");
    }
    return new Fd[] {new Fd(sv[0], this), new Fd(sv[1], this)};
  }

  @Override
  public Fd[] pipe() throws NativeException {
    int[] fds = new int[2];
    if (libc.pipe2(fds, O_CLOEXEC) != 0) {
      throw lastError("pipe2");
    }
    return new Fd[] {new Fd(fds[0], this), new Fd(fds[1], this)};
  }

  @Override
  public Fd open(Path path, boolean directory) throws NativeException {
    // The call name deliberately leaves out the path: messages may reach tenants.
    int fd = libc.open(path.toString(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0) {
      throw lastError("open");
    }
    return new Fd(fd, this);
  }

  @Override
  public void setNonBlocking(Fd fd, boolean nonBlocking) throws NativeException {
    int n = fd.number();
    int flags = libc.fcntl(n, F_GETFL, 0);
    if (flags < 0) {
      throw lastError("fcntl(F_GETFL)");
    }
    int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (wanted != flags && libc.fcntl(n, F_SETFL, wanted) != 0) {
      throw lastError("fcntl(F_SETFL)");
    }
  }

  @Override
  public int read(Fd fd, byte[] buf, int off, int len) throws NativeException {
    Objects.checkFromIndexSize(off, len, buf.length);
    int n = fd.number();
    // Into native memory, then only the bytes read into buf: an @Out heap buffer would be copied
    // back whole, overwriting buf beyond what read(2) returned.
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer data = arena.allocate(len);
      while (true) {
        long r = libc.read(n, data, len);
        if (r >= 0) {
          data.get(0, buf, off, (int) r);
          return (int) r;
        }
        int errno = runtime.getLastError();
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN) {
          return -1;
        }
        throw new NativeException("read", errno);
      }
    }
  }

  @Override
  public int write(Fd fd, byte[] buf, int off, int len) throws NativeException {
    Objects.checkFromIndexSize(off, len, buf.length);
    int n = fd.number();
    while (true) {
      long r = libc.write(n, ByteBuffer.wrap(buf, off, len), len);
      if (r >= 0) {
        return (int) r;
      }
      int errno = runtime.getLastError();
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        return -1;
      }
      throw new NativeException("write", errno);
    }
  }

  @Override
  public boolean[] pollReadable(List<Fd> fds, int timeoutMillis) throws NativeException {
    short[] revents = poll(fds, POLLIN, timeoutMillis);
    boolean[] ready = new boolean[revents.length];
    for (int i = 0; i < revents.length; i++) {
      ready[i] = (revents[i] & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
    }
    return ready;
  }

  @Override
  public boolean pollWritable(Fd fd, int timeoutMillis) throws NativeException {
    short revents = poll(List.of(fd), POLLOUT, timeoutMillis)[0];
    return (revents & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

  private short[] poll(List<Fd> fds, short events, int timeoutMillis) throws NativeException {
    short[] each = new short[fds.size()];
    java.util.Arrays.fill(each, events);
    return poll(fds, each, timeoutMillis);
  }

  @Override
  public short[] poll(List<Fd> fds, short[] events, int timeoutMillis) throws NativeException {
    int count = fds.size();
    if (count == 0) {
      return new short[0];
    }
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer pollfds = arena.allocate((long) count * POLLFD_SIZE);
      for (int i = 0; i < count; i++) {
        pollfds.putInt((long) i * POLLFD_SIZE, fds.get(i).number());
        pollfds.putShort((long) i * POLLFD_SIZE + 4, events[i]);
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
      int timeout = timeoutMillis < 0 ? -1 : timeoutMillis;
      while (libc.poll(pollfds, count, timeout) < 0) {
        int errno = runtime.getLastError();
        if (errno != EINTR) {
          throw new NativeException("poll", errno);
        }
        if (timeoutMillis >= 0) {
          timeout = (int) Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        }
      }
      short[] revents = new short[count];
      for (int i = 0; i < count; i++) {
        revents[i] = pollfds.getShort((long) i * POLLFD_SIZE + 6);
      }
      return revents;
    }
  }

  @Override
  public void close(Fd fd) {
    if (!fd.markClosed()) {
      return;
    }
    // No retry on EINTR: Linux has released the number whatever close(2) returns.
    if (libc.close(fd.rawNumberForLogs()) != 0 && runtime.getLastError() == EBADF) {
      log.warn("close({}) found it already closed: something closed it behind its Fd",
          fd.rawNumberForLogs());
    }
  }

  // ---- frames with descriptors ----------------------------------------------------------------

  @Override
  public void sendFrame(Fd socket, byte[] frame, List<Fd> fds) throws NativeException {
    int sock = socket.number();
    int[] numbers = new int[fds.size()];
    for (int i = 0; i < numbers.length; i++) {
      numbers[i] = fds.get(i).number();
    }
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer data = arena.allocate(frame.length);
      data.put(0, frame, 0, frame.length);
      Pointer iov = arena.allocate(IOVEC_SIZE);
      iov.putAddress(0, data.address());
      iov.putLong(8, frame.length);
      Pointer msg = arena.allocate(MSGHDR_SIZE);
      msg.putAddress(MSG_IOV, iov.address());
      msg.putLong(MSG_IOVLEN, 1);
      if (numbers.length > 0) {
        long space = cmsgSpace(4L * numbers.length);
        Pointer control = arena.allocate(space);
        control.putLong(0, CMSGHDR_SIZE + 4L * numbers.length);
        control.putInt(8, SOL_SOCKET);
        control.putInt(12, SCM_RIGHTS);
        for (int i = 0; i < numbers.length; i++) {
          control.putInt(CMSGHDR_SIZE + 4L * i, numbers[i]);
        }
        msg.putAddress(MSG_CONTROL, control.address());
        msg.putLong(MSG_CONTROLLEN, space);
      }
      while (true) {
        long sent = libc.sendmsg(sock, msg, MSG_NOSIGNAL);
        if (sent >= 0) {
          if (sent != frame.length) {
            // SEQPACKET records are atomic; a short count would mean the socket is not one.
            throw new IllegalStateException("sendmsg sent " + sent + " of " + frame.length + " bytes");
          }
          return;
        }
        int errno = runtime.getLastError();
        if (errno != EINTR) {
          throw new NativeException("sendmsg", errno);
        }
      }
    }
  }

  @Override
  public Optional<ReceivedFrame> receiveFrame(Fd socket, int maxBytes, int maxFds)
      throws NativeException {
    if (maxBytes < 0 || maxFds < 0) {
      throw new IllegalArgumentException("negative limit: " + maxBytes + " bytes, " + maxFds + " fds");
    }
    int sock = socket.number();
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer data = arena.allocate(maxBytes);
      Pointer iov = arena.allocate(IOVEC_SIZE);
      iov.putAddress(0, data.address());
      iov.putLong(8, maxBytes);
      // controllen is CMSG_LEN, not CMSG_SPACE: the kernel installs (controllen - 16) / 4
      // descriptors, so alignment padding would let one more than maxFds in.
      long controlLen = maxFds == 0 ? 0 : CMSGHDR_SIZE + 4L * maxFds;
      Pointer control = maxFds == 0 ? null : arena.allocate(cmsgSpace(4L * maxFds));
      Pointer msg = arena.allocate(MSGHDR_SIZE);
      msg.putAddress(MSG_IOV, iov.address());
      msg.putLong(MSG_IOVLEN, 1);
      if (control != null) {
        msg.putAddress(MSG_CONTROL, control.address());
      }
      long received;
      while (true) {
        msg.putLong(MSG_CONTROLLEN, controlLen);
        msg.putInt(MSG_FLAGS, 0);
        received = libc.recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
        if (received >= 0) {
          break;
        }
        int errno = runtime.getLastError();
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN) {
          return Optional.empty();
        }
        if (errno == ECONNRESET) {
          // The peer closed while records we sent were still unread: the queue is empty and
          // nothing more will come (the next call would return 0).
          return Optional.of(new ReceivedFrame(new byte[0], List.of(), false, true));
        }
        throw new NativeException("recvmsg", errno);
      }
      List<Fd> fds = control == null ? List.of() : receivedFds(control, msg.getLong(MSG_CONTROLLEN));
      boolean truncated =
          (msg.getInt(MSG_FLAGS) & (MSG_TRUNC | MSG_CTRUNC)) != 0 || fds.size() > maxFds;
      byte[] bytes = new byte[(int) received];
      data.get(0, bytes, 0, bytes.length);
      boolean eof = received == 0 && fds.isEmpty() && !truncated && peerClosedAndQueueEmpty(sock);
      return Optional.of(new ReceivedFrame(bytes, fds, truncated, eof));
    }
  }

  /** The SCM_RIGHTS descriptors in {@code length} bytes of received ancillary data. */
  private List<Fd> receivedFds(Pointer control, long length) {
    List<Fd> fds = new ArrayList<>();
    long offset = 0;
    while (offset + CMSGHDR_SIZE <= length) {
      long cmsgLen = control.getLong(offset);
      if (cmsgLen < CMSGHDR_SIZE || offset + cmsgLen > length) {
        break;
      }
      if (control.getInt(offset + 8) == SOL_SOCKET && control.getInt(offset + 12) == SCM_RIGHTS) {
        long count = (cmsgLen - CMSGHDR_SIZE) / 4;
        for (long i = 0; i < count; i++) {
          fds.add(new Fd(control.getInt(offset + CMSGHDR_SIZE + 4 * i), this));
        }
      }
      offset += cmsgSpace(cmsgLen - CMSGHDR_SIZE);
    }
    return fds;
  }

  /**
   * After recvmsg returned 0 bytes and no descriptors: true at end of stream, false when that was
   * a zero-length record. A SEQPACKET socket reports both as 0, so this asks whether the peer has
   * shut down (POLLRDHUP) and nothing, not even a non-empty record, is still queued (FIONREAD).
   * Only a zero-length record sent just before the peer closed, with nothing non-empty after it,
   * is reported as end of stream: it carried nothing.
   */
  private boolean peerClosedAndQueueEmpty(int sock) throws NativeException {
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer pollfd = arena.allocate(POLLFD_SIZE);
      pollfd.putInt(0, sock);
      pollfd.putShort(4, POLLRDHUP);
      int ready;
      while ((ready = libc.poll(pollfd, 1, 0)) < 0) {
        int errno = runtime.getLastError();
        if (errno != EINTR) {
          throw new NativeException("poll", errno);
        }
      }
      if (ready == 0 || (pollfd.getShort(6) & (POLLRDHUP | POLLHUP)) == 0) {
        return false;
      }
    }
    int[] queued = new int[1];
    if (libc.ioctl(sock, FIONREAD, queued) != 0) {
      throw lastError("ioctl(FIONREAD)");
    }
    return queued[0] == 0;
  }

  /** CMSG_SPACE: a control message header plus {@code dataBytes}, rounded up to 8. */
  private static long cmsgSpace(long dataBytes) {
    return CMSGHDR_SIZE + ((dataBytes + 7) & ~7L);
  }

  // ---- processes ------------------------------------------------------------------------------

  @Override
  public long spawn(List<String> argv, List<Fd> childFds) throws NativeException {
    if (argv.isEmpty() || !argv.get(0).startsWith("/")) {
      throw new IllegalArgumentException("argv[0] must be an absolute path: " + argv);
    }
    int[] sources = new int[childFds.size()];
    List<Integer> temporaries = new ArrayList<>();
    try (NativeArena arena = new NativeArena(libc)) {
      // dup2(source, i) in the child would overwrite descriptor i, which may be another child fd's
      // source. Sources are moved above every target first (close-on-exec copies, closed below).
      int floor = Math.max(SPAWN_FD_FLOOR, childFds.size());
      for (int i = 0; i < sources.length; i++) {
        Fd fd = childFds.get(i);
        if (fd == null) {
          sources[i] = -1;
          continue;
        }
        int copy = libc.fcntl(fd.number(), F_DUPFD_CLOEXEC, floor);
        if (copy < 0) {
          throw lastError("fcntl(F_DUPFD_CLOEXEC)");
        }
        temporaries.add(copy);
        sources[i] = copy;
      }
      Pointer path = arena.cString(argv.get(0));
      Pointer cArgv = arena.cStringArray(argv);
      Pointer envp = arena.cStringArray(List.of());
      Pointer devNull = arena.cString("/dev/null");
      Pointer allSignals = arena.allocate(SIGSET_SIZE);
      Pointer noSignals = arena.allocate(SIGSET_SIZE);
      // Every signal 1-64, set by hand: sigfillset leaves out glibc's internal SIGCANCEL (32) and
      // SIGSETXID (33), which glibc's spawn child then sets to SIG_IGN, and SIG_IGN survives exec.
      // posix_spawnattr_setsigdefault copies the bits as they are, so with them the child resets
      // 32 and 33 to SIG_DFL too (no handler runs in it before exec, so nothing shared is at risk).
      allSignals.putLong(0, -1L);
      check("sigemptyset", libc.sigemptyset(noSignals) == 0 ? 0 : runtime.getLastError());
      Pointer pid = arena.allocate(4);

      Pointer actions = arena.allocate(SPAWN_FILE_ACTIONS_SIZE);
      check("posix_spawn_file_actions_init", libc.posix_spawn_file_actions_init(actions));
      try {
        Pointer attr = arena.allocate(SPAWN_ATTR_SIZE);
        check("posix_spawnattr_init", libc.posix_spawnattr_init(attr));
        try {
          for (int i = 0; i < sources.length; i++) {
            if (sources[i] < 0) {
              check("posix_spawn_file_actions_addopen",
                  libc.posix_spawn_file_actions_addopen(actions, i, devNull, O_RDWR, 0));
            } else {
              check("posix_spawn_file_actions_adddup2",
                  libc.posix_spawn_file_actions_adddup2(actions, sources[i], i));
            }
          }
          check("posix_spawn_file_actions_addclosefrom_np",
              libc.posix_spawn_file_actions_addclosefrom_np(actions, sources.length));
          check("posix_spawnattr_setsigdefault", libc.posix_spawnattr_setsigdefault(attr, allSignals));
          check("posix_spawnattr_setsigmask", libc.posix_spawnattr_setsigmask(attr, noSignals));
          check("posix_spawnattr_setflags", libc.posix_spawnattr_setflags(attr,
              (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
          // posix_spawn returns the error number instead of setting errno.
          check("posix_spawn", libc.posix_spawn(pid, path, actions, attr, cArgv, envp));
          return pid.getInt(0);
        } finally {
          libc.posix_spawnattr_destroy(attr);
        }
      } finally {
        libc.posix_spawn_file_actions_destroy(actions);
      }
    } finally {
      for (int copy : temporaries) {
        libc.close(copy);
      }
    }
  }

  @Override
  public Fd pidfdOpen(long pid) throws NativeException {
    if (pid <= 0 || pid > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pid must be a single positive process id, got " + pid);
    }
    long fd = libc.syscall(SYS_PIDFD_OPEN, (int) pid, 0);
    if (fd < 0) {
      throw lastError("pidfd_open");
    }
    return new Fd((int) fd, this);
  }

  @Override
  public Optional<ExitStatus> reap(Fd pidfd) throws NativeException {
    int fd = pidfd.number();
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer info = arena.allocate(SIGINFO_SIZE);
      while (true) {
        info.putInt(SI_PID, 0); // WNOHANG leaves siginfo alone while the child runs
        if (libc.waitid(P_PIDFD, fd, info, WEXITED | WNOHANG) == 0) {
          break;
        }
        int errno = runtime.getLastError();
        if (errno != EINTR) {
          throw new NativeException("waitid", errno);
        }
      }
      if (info.getInt(SI_PID) == 0) {
        return Optional.empty();
      }
      int code = info.getInt(SI_CODE);
      int status = info.getInt(SI_STATUS);
      return switch (code) {
        case CLD_EXITED -> Optional.of(new ExitStatus(status & 0xff, 0));
        case CLD_KILLED, CLD_DUMPED -> Optional.of(new ExitStatus(0, status));
        default -> throw new IllegalStateException("waitid(WEXITED) reported si_code " + code);
      };
    }
  }

  @Override
  public Optional<Long> pidOf(Fd pidfd) {
    Path fdinfo = Path.of("/proc/self/fdinfo", Integer.toString(pidfd.number()));
    try {
      for (String line : Files.readAllLines(fdinfo, StandardCharsets.UTF_8)) {
        if (line.startsWith("Pid:")) {
          long pid = Long.parseLong(line.substring("Pid:".length()).trim());
          // -1: reaped; 0: in a pid namespace this one cannot see.
          return pid > 0 ? Optional.of(pid) : Optional.empty();
        }
      }
    } catch (IOException | NumberFormatException e) {
      log.debug("no pid in {}", fdinfo, e);
    }
    return Optional.empty();
  }

  @Override
  public void signal(Fd pidfd, Signal signal) throws NativeException {
    if (libc.syscall(SYS_PIDFD_SEND_SIGNAL, pidfd.number(), signal.number(), null, 0) != 0) {
      throw lastError("pidfd_send_signal");
    }
  }

  // ---- readiness for many descriptors -------------------------------------------------------

  @Override
  public Fd epollCreate() throws NativeException {
    int fd = libc.epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
      throw lastError("epoll_create1");
    }
    return new Fd(fd, this);
  }

  @Override
  public void epollAdd(Fd epoll, Fd fd, long token) throws NativeException {
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer event = arena.allocate(EPOLL_EVENT_SIZE);
      event.putInt(0, EPOLLIN | EPOLLRDHUP); // EPOLLERR and EPOLLHUP are always reported
      event.putLong(EPOLL_DATA, token);
      if (libc.epoll_ctl(epoll.number(), EPOLL_CTL_ADD, fd.number(), event) != 0) {
        throw lastError("epoll_ctl(EPOLL_CTL_ADD)");
      }
    }
  }

  @Override
  public void epollRemove(Fd epoll, Fd fd) {
    int epfd;
    int target;
    try {
      epfd = epoll.number();
      target = fd.number();
    } catch (IllegalStateException closed) {
      return; // closing a descriptor already took it out of every epoll set
    }
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer event = arena.allocate(EPOLL_EVENT_SIZE); // ignored, but pre-2.6.9 kernels wanted one
      if (libc.epoll_ctl(epfd, EPOLL_CTL_DEL, target, event) != 0) {
        int errno = runtime.getLastError();
        if (errno != ENOENT && errno != EBADF) {
          log.warn("epoll_ctl(EPOLL_CTL_DEL, {}) failed: errno {}", fd, errno);
        }
      }
    } catch (NativeException e) {
      log.warn("epoll_ctl(EPOLL_CTL_DEL, {}): no memory for the event", fd, e);
    }
  }

  @Override
  public int epollWait(Fd epoll, long[] tokens, int timeoutMillis) throws NativeException {
    if (tokens.length == 0) {
      throw new IllegalArgumentException("room for at least one token is needed");
    }
    int epfd = epoll.number();
    try (NativeArena arena = new NativeArena(libc)) {
      Pointer events = arena.allocate((long) tokens.length * EPOLL_EVENT_SIZE);
      int ready = libc.epoll_wait(epfd, events, tokens.length, timeoutMillis < 0 ? -1 : timeoutMillis);
      if (ready < 0) {
        int errno = runtime.getLastError();
        if (errno == EINTR) {
          return 0;
        }
        throw new NativeException("epoll_wait", errno);
      }
      for (int i = 0; i < ready; i++) {
        tokens[i] = events.getLong((long) i * EPOLL_EVENT_SIZE + EPOLL_DATA);
      }
      return ready;
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private NativeException lastError(String call) {
    return new NativeException(call, runtime.getLastError());
  }

  /** Throws for a nonzero error number returned (not set in errno) by {@code call}. */
  private static void check(String call, int error) throws NativeException {
    if (error != 0) {
      throw new NativeException(call, error);
    }
  }
}
