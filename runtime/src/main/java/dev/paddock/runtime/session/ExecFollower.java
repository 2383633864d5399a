package dev.paddock.runtime.session;

import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * Follows one exec's output and result for one reader (an Exec or AttachExec call). The Exec
 * call that started an exec is its <em>primary</em> reader: the exec's output waits for it (a slow
 * client slows the program instead of growing host memory). Attached readers never hold the
 * program back; one that falls behind the replay buffer resumes at the oldest byte still kept.
 */
public final class ExecFollower {
  private static final int CHUNK_BYTES = ExecRunner.CHUNK_BYTES;
  private static final long IDLE_CHECK_MILLIS = 200;

  private ExecFollower() {}

  /**
   * Streams {@code record} to {@code listener} from the given byte offsets until it has ended (or
   * the reader is gone: {@link ExecListener#output} returned false, or {@code gone} says so).
   * Runs on the calling thread.
   */
  public static void follow(ExecRecord record, long stdoutOffset, long stderrOffset, boolean primary,
      ExecListener listener, BooleanSupplier gone) throws InterruptedException {
    ExecOutput out = record.stdout();
    ExecOutput err = record.stderr();
    if (primary) {
      out.attachPrimary(stdoutOffset);
      err.attachPrimary(stderrOffset);
      record.events().attachPrimary(0);
    }
    try {
      listener.started(record.id(), record.startTime());
      ToolEvents events = record.events();
      long outAt = stdoutOffset;
      long errAt = stderrOffset;
      long eventAt = 0;
      boolean outDone = false;
      boolean errDone = false;
      while (true) {
        // Tool events whose place in the output has been reached go first.
        ToolEvents.Entry event = events.from(eventAt);
        while (event != null && (outDone || outAt >= event.stdoutAt()) && (errDone || errAt >= event.stderrAt())) {
          if (!listener.tool(event.event())) {
            return;
          }
          eventAt = event.event().sequence() + 1;
          if (primary) {
            events.primaryReached(eventAt);
          }
          event = events.from(eventAt);
        }
        if (outDone && errDone) {
          break; // the pump records events only before it ends the streams: none can follow
        }
        // Output up to the next event's place, no further (the reads check again: an event may be
        // recorded while this one waits).
        long outRoom = event == null ? CHUNK_BYTES : Math.min(CHUNK_BYTES, event.stdoutAt() - outAt);
        long errRoom = event == null ? CHUNK_BYTES : Math.min(CHUNK_BYTES, event.stderrAt() - errAt);
        record.awaitOutput(outDone || outRoom <= 0 ? -1 : outAt, errDone || errRoom <= 0 ? -1 : errAt,
            event == null ? eventAt : Long.MAX_VALUE, IDLE_CHECK_MILLIS);
        if (gone.getAsBoolean()) {
          return;
        }
        if (!outDone && outRoom > 0) {
          ExecOutput.Chunk c = record.readBeforeEvent(true, outAt, (int) outRoom, eventAt, primary);
          if (c == null) {
            outDone = true;
          } else if (c.data().length > 0) {
            if (!listener.output(ExecListener.Stream.STDOUT, c.data(), c.offset())) {
              return;
            }
            outAt = c.offset() + c.data().length;
          }
        }
        if (!errDone && errRoom > 0) {
          ExecOutput.Chunk c = record.readBeforeEvent(false, errAt, (int) errRoom, eventAt, primary);
          if (c == null) {
            errDone = true;
          } else if (c.data().length > 0) {
            if (!listener.output(ExecListener.Stream.STDERR, c.data(), c.offset())) {
              return;
            }
            errAt = c.offset() + c.data().length;
          }
        }
      }
      ExecRecord.Outcome o;
      try {
        o = record.outcome().get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("an exec's outcome failed", e);
      }
      listener.finished(o);
    } finally {
      if (primary) {
        out.detachPrimary();
        err.detachPrimary();
        record.events().detachPrimary();
      }
    }
  }
}
