package dev.paddock.runtime.session;


/**
 * One output stream of an exec (stdout or stderr): a bounded tail of it kept for replay, and the
 * count of everything written.
 *
 * <p>Readers follow it with their own byte offset ({@link #read}). A reader that falls more than the
 * retained capacity behind resumes at the oldest retained byte; the gap shows in the offsets. One
 * reader may be <em>primary</em> (the Exec call that started the exec): while it is attached, the
 * writer waits for it instead of overwriting what it has not read yet, so a slow client slows the
 * program (its pipe fills) and never grows the host's memory. Past the per-stream cap, bytes are
 * counted and dropped ({@link #truncated()}).
 */
final class ExecOutput {
  /** What a reader gets: bytes starting at {@code offset}, or nothing once the stream has ended. */
  record Chunk(byte[] data, long offset) {}

  private final Object lock;
  /** Grows from {@link #INITIAL_BYTES} up to {@code capacity}: most execs write little. */
  private byte[] ring;
  private final int capacity;
  private final long cap;
  static final int INITIAL_BYTES = 4096;
  private long total;       // bytes the program wrote
  private long kept;        // bytes accepted into the ring (total, minus what the cap dropped)
  private boolean ended;
  private boolean truncated;
  private long primaryOffset = -1; // -1 = no primary reader

  /** {@code lock} is shared by an exec's two streams, so one reader can wait for either. */
  ExecOutput(Object lock, int retainBytes, long capBytes) {
    this.lock = lock;
    this.capacity = retainBytes;
    this.ring = new byte[Math.min(INITIAL_BYTES, retainBytes)];
    this.cap = capBytes;
  }

  /** Appends the program's bytes; may wait for the primary reader. */
  void write(byte[] buf, int len) throws InterruptedException {
    synchronized (lock) {
      total += len;
      int accepted = (int) Math.max(0, Math.min(len, cap - kept));
      if (accepted < len) {
        truncated = true;
      }
      int off = 0;
      while (off < accepted) {
        while (primaryOffset >= 0 && kept - primaryOffset >= capacity) {
          lock.wait();
        }
        long room = primaryOffset >= 0 ? capacity - (kept - primaryOffset) : capacity;
        int n = (int) Math.min(accepted - off, room);
        growFor(n);
        copyIn(buf, off, kept, n);
        kept += n;
        off += n;
        lock.notifyAll();
      }
    }
  }

  /** No more bytes will come. */
  void end() {
    synchronized (lock) {
      ended = true;
      lock.notifyAll();
    }
  }

  /** Makes a reader at {@code offset} the primary one (the writer waits for it). */
  void attachPrimary(long offset) {
    synchronized (lock) {
      primaryOffset = offset;
    }
  }

  /** The primary reader left (cancelled, stalled, done): the writer no longer waits. */
  void detachPrimary() {
    synchronized (lock) {
      primaryOffset = -1;
      lock.notifyAll();
    }
  }

  /**
   * The next bytes at or after {@code offset}, at most {@code max}; waits up to {@code waitMillis}
   * for some. Returns null once the stream has ended and everything was read, an empty chunk on
   * timeout.
   */
  Chunk read(long offset, int max, long waitMillis, boolean primary) throws InterruptedException {
    synchronized (lock) {
      long deadline = System.currentTimeMillis() + waitMillis;
      while (offset >= kept && !ended) {
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          return new Chunk(new byte[0], offset);
        }
        lock.wait(left);
      }
      if (offset >= kept) {
        return null;
      }
      long oldest = Math.max(0, kept - ring.length);
      long from = Math.max(offset, oldest);
      int n = (int) Math.min(max, kept - from);
      byte[] out = new byte[n];
      copyOut(from, out, n);
      if (primary && primaryOffset >= 0) {
        primaryOffset = from + n;
        lock.notifyAll();
      }
      return new Chunk(out, from);
    }
  }

  /** True when a reader at {@code offset} would not wait: bytes are there, or the stream ended. */
  boolean readable(long offset) {
    synchronized (lock) {
      return offset < kept || ended;
    }
  }

  /** The stream offset the next kept byte will have (what a reader has once it has read everything). */
  long position() {
    synchronized (lock) {
      return kept;
    }
  }

  /** Everything the program wrote, including bytes dropped past the cap. */
  long total() {
    synchronized (lock) {
      return total;
    }
  }

  /** True when bytes past the cap were dropped. */
  boolean truncated() {
    synchronized (lock) {
      return truncated;
    }
  }

  /** True once the stream has ended. */
  boolean ended() {
    synchronized (lock) {
      return ended;
    }
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "ExecOutput[total=" + total + ", kept=" + kept + ", ring=" + ring.length + "]";
    }
  }

  /**
   * Makes room for {@code n} more bytes while the ring is below its capacity. Until the ring has
   * reached its capacity nothing was overwritten, so stream offset i is still at index i and
   * growing is a plain copy.
   */
  private void growFor(int n) {
    if (ring.length < capacity && kept + n > ring.length) {
      long wanted = Math.max((long) ring.length * 2, kept + n);
      ring = java.util.Arrays.copyOf(ring, (int) Math.min(capacity, wanted));
    }
  }

  /** Copies {@code n} bytes of {@code buf} to stream offset {@code at} of the ring (in at most two pieces). */
  private void copyIn(byte[] buf, int off, long at, int n) {
    int start = (int) (at % ring.length);
    int first = Math.min(n, ring.length - start);
    System.arraycopy(buf, off, ring, start, first);
    System.arraycopy(buf, off + first, ring, 0, n - first);
  }

  /** Copies {@code n} bytes from stream offset {@code at} of the ring into {@code out}. */
  private void copyOut(long at, byte[] out, int n) {
    int start = (int) (at % ring.length);
    int first = Math.min(n, ring.length - start);
    System.arraycopy(ring, start, out, 0, first);
    System.arraycopy(ring, 0, out, first, n - first);
  }
}
