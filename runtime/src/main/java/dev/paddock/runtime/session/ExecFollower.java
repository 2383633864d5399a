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
    }
    try {
      listener.started(record.id(), record.startTime());
      long outAt = stdoutOffset;
      long errAt = stderrOffset;
      boolean outDone = false;
      boolean errDone = false;
      while (!(outDone && errDone)) {
        record.awaitOutput(outDone ? -1 : outAt, errDone ? -1 : errAt, IDLE_CHECK_MILLIS);
        if (gone.getAsBoolean()) {
          return;
        }
        if (!outDone) {
          ExecOutput.Chunk c = out.read(outAt, CHUNK_BYTES, 0, primary);
          if (c == null) {
            outDone = true;
          } else if (c.data().length > 0) {
            if (!listener.output(ExecListener.Stream.STDOUT, c.data(), c.offset())) {
              return;
            }
            outAt = c.offset() + c.data().length;
          }
        }
        if (!errDone) {
          ExecOutput.Chunk c = err.read(errAt, CHUNK_BYTES, 0, primary);
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
      listener.finished(o.result(), new ExecListener.ExecCounters(o.stdoutBytes(), o.stderrBytes(), o.truncated()));
    } finally {
      if (primary) {
        out.detachPrimary();
        err.detachPrimary();
      }
    }
  }
}
