package dev.paddock.runtime.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A reader delivers each tool event before any output the tool wrote after sending it. */
class ExecFollowerTest {
  @Test
  void outputWrittenAfterAnEventIsNeverDeliveredBeforeIt() throws Exception {
    ExecRecord record = new ExecRecord("exec_test", null, List.of("tool"), "", Instant.EPOCH, null, 4096, 1 << 20, null,
        false, () -> {});
    List<String> delivered = Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try {
        ExecFollower.follow(record, 0, 0, true, new ExecListener() {
          @Override
          public void started(String execId, Instant startTime) {}

          @Override
          public boolean output(Stream stream, byte[] data, long offset) {
            delivered.add("output at " + offset + ": " + new String(data, StandardCharsets.UTF_8).trim());
            return true;
          }

          @Override
          public boolean tool(ToolEvent event) {
            delivered.add("progress");
            return false; // enough: the test is about what came first
          }

          @Override
          public void finished(ExecRecord.Outcome o) {}
        }, () -> false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "exec-follower-test");
    reader.start();

    // The moment the race needs: the reader waits for output, and no event exists yet.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (reader.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(reader.getState()).isEqualTo(Thread.State.TIMED_WAITING);

    // The event and the tool's next output land before the reader wakes, as when the tool gets
    // its reply and writes at once while the reader's thread has not run yet.
    record.recordEvent(sequence -> {
      try {
        record.stdout().write("after\n".getBytes(StandardCharsets.UTF_8), 6);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return new ToolEvent.Progress("half", OptionalDouble.of(0.5), sequence, Instant.EPOCH);
    });
    reader.join(TimeUnit.SECONDS.toMillis(5));

    assertThat(reader.isAlive()).isFalse();
    assertThat(delivered).containsExactly("progress");
  }
}
