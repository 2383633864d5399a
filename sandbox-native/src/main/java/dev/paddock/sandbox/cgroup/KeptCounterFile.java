package dev.paddock.sandbox.cgroup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One flat-keyed counter file of a cgroup ({@code pids.events}, {@code memory.oom_control}, ...),
 * opened once and re-read in place: the kernel regenerates the text on every read at offset 0. A
 * session reads two such files at every exec's start; opening them each time cost several
 * system calls a file.
 */
final class KeptCounterFile implements AutoCloseable {
  /** Far more than these files hold (three short lines at most). */
  private static final int MAX_BYTES = 4096;

  private final Path file;
  private FileChannel channel;
  private boolean absent;
  private boolean closed;

  KeptCounterFile(Path file) {
    this.file = file;
  }

  /** The value of {@code key} now, 0 when the file or the key is absent. */
  long keyed(String key) throws CgroupException {
    FileChannel ch = channel();
    if (ch == null) {
      return 0;
    }
    ByteBuffer text = ByteBuffer.allocate(MAX_BYTES);
    try {
      ch.read(text, 0); // one read: the kernel makes the whole text (a few lines) for a read at offset 0
    } catch (IOException e) {
      throw new CgroupException("cannot read " + file, e);
    }
    return CgroupFiles.keyedValue(new String(text.array(), 0, text.position(), StandardCharsets.US_ASCII), key);
  }

  private synchronized FileChannel channel() throws CgroupException {
    if (channel == null && !absent && !closed) { // a removed group counts nothing any more: 0
      try {
        channel = FileChannel.open(file, StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        absent = true; // this kernel does not count it: 0, as for any missing counter
      } catch (IOException e) {
        throw new CgroupException("cannot open " + file, e);
      }
    }
    return channel;
  }

  /** Closes the file, before its cgroup's directory is removed. */
  @Override
  public synchronized void close() {
    closed = true;
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // a read-only file: nothing was written that could be lost
      }
      channel = null;
    }
  }
}
