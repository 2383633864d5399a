package dev.paddock.runtime.session;

import java.nio.charset.StandardCharsets;
import java.util.function.LongFunction;

/**
 * An exec's tool events, the latest of them (at most {@link #CAPACITY} events and
 * {@link #MAX_BYTES} of their text), each pinned to the two output positions reached when it
 * arrived: a reader delivers it once it has delivered stdout and stderr up to there, so the planner
 * sees it after every byte the tool wrote before sending it. Shares the exec's output lock, so one
 * wait covers output and events.
 *
 * <p>Like the output, the events wait for a <em>primary</em> reader (the Exec call that started the
 * exec): while it is attached, appending waits instead of dropping an event it has not read, so a
 * slow planner slows the tool (its requests go unanswered) and loses nothing. Attached readers that
 * fall behind skip to the oldest event kept; the sequence numbers show the gap.
 */
final class ToolEvents {
  /** Most events kept per exec. */
  static final int CAPACITY = 1024;
  /** Most bytes of event text (progress messages, artifact names and types) kept per exec. */
  static final long MAX_BYTES = 256 * 1024;

  /** An event and where it sits in the output streams (bytes of each delivered before it). */
  record Entry(ToolEvent event, long stdoutAt, long stderrAt, int bytes) {}

  private final Object lock;
  /** Event n is at n % CAPACITY while it is kept. */
  private final Entry[] ring = new Entry[CAPACITY];
  private long first;       // oldest kept
  private long next;        // the next event's number
  private long bytes;       // text of the kept events
  private long primaryAt = -1; // the next event the primary reader needs; -1 = none attached

  ToolEvents(Object lock) {
    this.lock = lock;
  }

  /**
   * Appends the event {@code make} builds for the next sequence number, making room by dropping
   * the oldest events, or by waiting for the primary reader when it has not read them yet.
   */
  ToolEvent append(LongFunction<ToolEvent> make, long stdoutAt, long stderrAt) throws InterruptedException {
    synchronized (lock) {
      ToolEvent event = make.apply(next);
      int size = size(event);
      while (next - first >= CAPACITY || (bytes + size > MAX_BYTES && first < next)) {
        if (primaryAt >= 0 && primaryAt <= first) {
          lock.wait();
          continue;
        }
        bytes -= ring[(int) (first % CAPACITY)].bytes();
        ring[(int) (first % CAPACITY)] = null;
        first++;
      }
      ring[(int) (next % CAPACITY)] = new Entry(event, stdoutAt, stderrAt, size);
      bytes += size;
      next++;
      lock.notifyAll();
      return event;
    }
  }

  /** The first kept event at or after {@code sequence}; null when there is none yet. */
  Entry from(long sequence) {
    synchronized (lock) {
      long at = Math.max(sequence, first);
      return at >= next ? null : ring[(int) (at % CAPACITY)];
    }
  }

  /** True when an event at or after {@code sequence} exists. */
  boolean readable(long sequence) {
    synchronized (lock) {
      return sequence < next;
    }
  }

  /** Makes a reader at event {@code sequence} the primary one. */
  void attachPrimary(long sequence) {
    synchronized (lock) {
      primaryAt = sequence;
    }
  }

  /** The primary reader has delivered every event before {@code sequence}. */
  void primaryReached(long sequence) {
    synchronized (lock) {
      if (primaryAt >= 0) {
        primaryAt = sequence;
        lock.notifyAll();
      }
    }
  }

  /** The primary reader left: appending no longer waits. */
  void detachPrimary() {
    synchronized (lock) {
      primaryAt = -1;
      lock.notifyAll();
    }
  }

  private static int size(ToolEvent event) {
    if (event instanceof ToolEvent.Progress p) {
      return 64 + p.message().getBytes(StandardCharsets.UTF_8).length;
    }
    if (event instanceof ToolEvent.EgressDenied d) {
      return 64 + d.host().length() + d.address().length() + d.detail().length();
    }
    ToolEvent.Artifact a = (ToolEvent.Artifact) event;
    return 64 + a.artifact().name().length() + a.artifact().contentType().length() + a.artifact().sha256().length();
  }
}
