package dev.paddock.runtime.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ToolEventsTest {
  private final Object lock = new Object();
  private final ToolEvents events = new ToolEvents(lock);

  private void progress(String message) throws InterruptedException {
    events.append(seq -> new ToolEvent.Progress(message, OptionalDouble.empty(), seq, Instant.EPOCH), 0, 0);
  }

  @Test
  void keepsTheLatestWithinCountAndBytes() throws Exception {
    for (int i = 0; i < ToolEvents.CAPACITY + 10; i++) {
      progress("m" + i);
    }
    assertThat(events.from(0).event().sequence()).isEqualTo(10);
    String big = "x".repeat(4000);
    for (int i = 0; i < 100; i++) {
      progress(big);
    }
    long first = events.from(0).event().sequence();
    long kept = ToolEvents.CAPACITY + 110 - first;
    assertThat(kept * 4000).isLessThanOrEqualTo(ToolEvents.MAX_BYTES);
    assertThat(events.from(ToolEvents.CAPACITY + 109).event().sequence()).isEqualTo(ToolEvents.CAPACITY + 109);
    assertThat(events.from(ToolEvents.CAPACITY + 110)).isNull();
  }

  @Test
  void aPrimaryReaderHoldsTheWriterInsteadOfLosingEvents() throws Exception {
    events.attachPrimary(0);
    for (int i = 0; i < ToolEvents.CAPACITY; i++) {
      progress("m" + i);
    }
    CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> {
      try {
        progress("one more");
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(200);
    assertThat(blocked).isNotDone();
    assertThat(events.from(0).event().sequence()).isZero();
    events.primaryReached(1);
    blocked.get(5, TimeUnit.SECONDS);
    assertThat(events.from(0).event().sequence()).isEqualTo(1);
    events.detachPrimary();
    progress("free");
  }
}
