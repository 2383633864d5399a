package dev.paddock.sandbox.linux;

import dev.paddock.sandbox.linux.internal.JnrLinuxSyscalls;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The few Linux calls the host makes directly, with Java types and typed errors. Everything above
 * this interface is plain Java; the jnr-ffi binding stays in {@code internal}. No method returns a
 * raw return code or errno: failures are {@link NativeException}s naming the call and the errno.
 *
 * <p>Every descriptor this interface creates is close-on-exec, so a jail started later never
 * inherits another session's channel or pipes.
 */
public interface LinuxSyscalls {

  /** Sends {@code signal} to process {@code pid} (a host pid). ESRCH means it is already gone. */
  void sendSignal(long pid, Signal signal) throws NativeException;

  /**
   * The records now in the kernel log ({@code /dev/kmsg}), oldest first, each without its
   * {@code "prio,seq,time,flags;"} prefix. Reading never blocks.
   */
  List<String> kernelLogRecords() throws NativeException;

  // ---- descriptors ----------------------------------------------------------------------------

  /**
   * An AF_UNIX SOCK_SEQPACKET socketpair: {@code [0]} is the host's end (non-blocking, send buffer
   * forced to {@code hostSendBufferBytes} with SO_SNDBUFFORCE so frames that large fit one
   * record), {@code [1]} the end handed to a child (blocking). Both close-on-exec.
   *
   * <p>The kernel doubles the value; a record may be up to 2 × {@code hostSendBufferBytes} − 32
   * bytes. SO_SNDBUFFORCE needs CAP_NET_ADMIN: without it this throws with EPERM (and closes both
   * ends).
   */
  Fd[] seqpacketPair(int hostSendBufferBytes) throws NativeException;

  /** A pipe: {@code [0]} read end, {@code [1]} write end, both close-on-exec and blocking. */
  Fd[] pipe() throws NativeException;

  /** Opens {@code path} read-only ({@code O_RDONLY|O_CLOEXEC}, plus O_DIRECTORY when {@code directory}). */
  Fd open(Path path, boolean directory) throws NativeException;

  /** Switches O_NONBLOCK on or off. */
  void setNonBlocking(Fd fd, boolean nonBlocking) throws NativeException;

  /**
   * One read(2). Returns the number of bytes read, 0 at end of file, or -1 when the descriptor is
   * non-blocking and nothing is available (EAGAIN). EINTR is retried.
   */
  int read(Fd fd, byte[] buf, int off, int len) throws NativeException;

  /**
   * One write(2) of at most {@code len} bytes. Returns the number written, or -1 on EAGAIN for a
   * non-blocking descriptor. EPIPE is thrown; the SIGPIPE that comes with it does not harm the JVM
   * (HotSpot installs a handler that discards it).
   */
  int write(Fd fd, byte[] buf, int off, int len) throws NativeException;

  /**
   * Writes all {@code len} bytes to a blocking descriptor, going on after short writes. A descriptor
   * that takes nothing (non-blocking and full: EAGAIN) or fails (EPIPE, ECONNRESET) is a
   * NativeException.
   */
  default void writeAll(Fd fd, byte[] buf, int off, int len) throws NativeException {
    java.util.Objects.checkFromIndexSize(off, len, buf.length);
    while (len > 0) {
      int n = write(fd, buf, off, len);
      if (n < 0) {
        throw new NativeException("write", Errno.EAGAIN.code());
      }
      off += n;
      len -= n;
    }
  }

  /**
   * Waits until one of {@code fds} is readable (or at hang-up / error) or {@code timeoutMillis}
   * passes (-1 = forever, 0 = do not wait): poll(2) with POLLIN. Returns one flag per descriptor,
   * true when it is readable, hung up or in error (a read will then not block). EINTR is retried
   * with the time left. An empty list returns an empty array at once.
   */
  boolean[] pollReadable(List<Fd> fds, int timeoutMillis) throws NativeException;

  /**
   * Waits until {@code fd} is writable (POLLOUT), or error/hang-up, or the timeout passes.
   * Returns true when a write will not block (or will fail at once, e.g. EPIPE).
   */
  boolean pollWritable(Fd fd, int timeoutMillis) throws NativeException;

  /** poll(2) event bit: readable (or hang-up / error, which poll always reports). */
  short POLLIN = 0x1;
  /** poll(2) event bit: writable. */
  short POLLOUT = 0x4;
  /** poll(2) revents bits meaning hang-up, error or a bad descriptor: a read or write will not block. */
  short POLL_CLOSED = 0x8 | 0x10 | 0x20;

  /**
   * poll(2): waits until one of {@code fds} has one of its {@code events} (bit masks of
   * {@link #POLLIN} and {@link #POLLOUT}; 0 = only hang-up and errors), or {@code timeoutMillis}
   * passes (-1 = forever, 0 = do not wait). Returns each descriptor's revents. EINTR is retried with
   * the time left.
   */
  short[] poll(List<Fd> fds, short[] events, int timeoutMillis) throws NativeException;

  /**
   * A connected AF_UNIX SOCK_STREAM socketpair, both ends close-on-exec and blocking: {host, child}.
   * The exec's typed IPC channel; the host's end is made non-blocking by its user.
   */
  Fd[] streamPair() throws NativeException;

  /** Closes {@code fd}; closing twice is a no-op (the {@link Fd} remembers). */
  void close(Fd fd);

  // ---- frames with descriptors ----------------------------------------------------------------

  /**
   * Sends one SEQPACKET record with {@code fds} as SCM_RIGHTS (MSG_NOSIGNAL). The record is sent
   * whole or not at all. Throws with EAGAIN when a non-blocking socket's buffer is full, EPIPE or
   * ECONNRESET when the peer is gone, EMSGSIZE when the frame is larger than the send buffer.
   */
  void sendFrame(Fd socket, byte[] frame, List<Fd> fds) throws NativeException;

  /**
   * Receives one SEQPACKET record of at most {@code maxBytes} (MSG_CMSG_CLOEXEC, so received
   * descriptors are close-on-exec), or empty when a non-blocking socket has nothing (EAGAIN).
   * A record larger than {@code maxBytes}, or descriptors beyond {@code maxFds} (or ancillary data
   * cut short, MSG_CTRUNC) comes back with {@link ReceivedFrame#truncated()} set; every descriptor
   * that did arrive is still returned, so the caller can close it.
   *
   * <p>End of stream ({@link ReceivedFrame#eof()}) is reported when the peer has closed or shut
   * down its end and nothing is left to read, and also when recvmsg fails with ECONNRESET (the peer
   * closed with records of ours unread). A zero-length record from a live peer is returned as a
   * record; SEQPACKET gives both as a 0-byte read, so a zero-length record sent just before the
   * peer closed, with nothing after it, is reported as end of stream.
   */
  Optional<ReceivedFrame> receiveFrame(Fd socket, int maxBytes, int maxFds) throws NativeException;

  // ---- processes ------------------------------------------------------------------------------

  /**
   * Starts {@code argv} (argv[0] an absolute path, no PATH search) with posix_spawn: an empty
   * environment, a new session (setsid), every signal at its default disposition and an empty
   * signal mask; descriptor i of the child is {@code childFds.get(i)} (null = /dev/null, read-write)
   * and every other descriptor is closed (closefrom). Returns the child's pid; the caller must reap
   * it ({@link #pidfdOpen} + {@link #reap}). "Every signal" includes glibc's internal 32 and 33,
   * which a plain sigfillset would leave ignored. A program that cannot be executed fails here
   * (e.g. ENOENT, EACCES from {@code posix_spawn}), not as an exit status.
   */
  long spawn(List<String> argv, List<Fd> childFds) throws NativeException;

  /** pidfd_open(pid, 0): a descriptor that stays tied to this process even after its pid is reused. */
  Fd pidfdOpen(long pid) throws NativeException;

  /**
   * waitid(P_PIDFD, WEXITED|WNOHANG) on a child of this JVM: its exit status once it has ended
   * (the child is then reaped), empty while it runs.
   */
  Optional<ExitStatus> reap(Fd pidfd) throws NativeException;

  /**
   * The host pid of the process a pidfd refers to, from {@code /proc/self/fdinfo} (the kernel's
   * own word: a pidfd received from a jail cannot lie about it). Empty when the process has
   * been reaped (Pid: -1) or the descriptor is not a pidfd.
   */
  Optional<Long> pidOf(Fd pidfd);

  /** Sends {@code signal} through a pidfd (pidfd_send_signal). ESRCH means it has ended. */
  void signal(Fd pidfd, Signal signal) throws NativeException;

  // ---- readiness for many descriptors (one thread serves every session) ------------------------

  /** A new epoll instance, close-on-exec. */
  Fd epollCreate() throws NativeException;

  /** Adds {@code fd} for level-triggered readability (EPOLLIN, plus hang-up and error). */
  void epollAdd(Fd epoll, Fd fd, long token) throws NativeException;

  /** Removes {@code fd}; a descriptor not registered (or already closed) is ignored. */
  void epollRemove(Fd epoll, Fd fd);

  /**
   * Waits up to {@code timeoutMillis} (-1 = forever) for registered descriptors to be ready and
   * writes the tokens of the ready ones to {@code tokens} (at most {@code tokens.length}, which
   * must be at least 1). Returns how many; 0 on timeout or EINTR.
   */
  int epollWait(Fd epoll, long[] tokens, int timeoutMillis) throws NativeException;

  /** The binding backed by the running libc. */
  static LinuxSyscalls system() {
    return JnrLinuxSyscalls.instance();
  }
}
