package dev.paddock.sandbox.linux.internal;

import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.Signal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/** {@link LinuxSyscalls} over jnr-ffi. */
public final class JnrLinuxSyscalls implements LinuxSyscalls {
  private static final int O_RDONLY = 0;
  private static final int O_NONBLOCK = 04000;
  private static final int O_CLOEXEC = 02000000;
  private static final int EAGAIN = 11;
  private static final int EPIPE = 32;
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
}
