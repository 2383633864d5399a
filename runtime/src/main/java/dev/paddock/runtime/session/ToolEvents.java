package dev.paddock.runtime.session;

import java.util.function.LongFunction;

/**
 * An exec's tool events, the latest {@link #CAPACITY} of them, each pinned to the two output
 * positions reached when it arrived: a reader delivers it once it has delivered stdout and stderr up
 * to there, so the planner sees it after every byte the tool wrote before sending it. Shares the
 * exec's output lock, so one wait covers output and events.
 */
final class ToolEvents {
  /** Events kept per exec for replay. */
  static final int CAPACITY = 1024;

  /** An event and where it sits in the output streams (bytes of each delivered before it). */
  record Entry(ToolEvent event, long stdoutAt, long stderrAt) {}

  private final Object lock;
  /** Event n is at n % CAPACITY while it is among the latest CAPACITY. */
  private final Entry[] ring = new Entry[CAPACITY];
  private long next;

  ToolEvents(Object lock) {
    this.lock = lock;
  }

  /** Appends the event {@code make} builds for the next sequence number; wakes readers. */
  ToolEvent append(LongFunction<ToolEvent> make, long stdoutAt, long stderrAt) {
    synchronized (lock) {
      ToolEvent event = make.apply(next);
      ring[(int) (next % CAPACITY)] = new Entry(event, stdoutAt, stderrAt);
      next++;
      lock.notifyAll();
      return event;
    }
  }

  /** The first kept event at or after {@code sequence}; null when there is none yet. */
  Entry from(long sequence) {
    synchronized (lock) {
      long at = Math.max(sequence, next - CAPACITY);
      return at >= next ? null : ring[(int) (at % CAPACITY)];
    }
  }

  /** True when an event at or after {@code sequence} exists. */
  boolean readable(long sequence) {
    synchronized (lock) {
      return sequence < next;
    }
  }
}
