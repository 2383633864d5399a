package dev.paddock.runtime.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.testing.ManualClock;
import dev.paddock.sandbox.SandboxSetupException;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JailGateTest {
  @Test
  void failuresRightAfterAPassingProbeDoNotCostEveryoneAProbe() {
    ManualClock clock = new ManualClock(Instant.parse("2026-11-26T00:00:00Z"));
    AtomicInteger probes = new AtomicInteger();
    boolean[] broken = {false};
    JailGate gate = new JailGate(() -> {
      probes.incrementAndGet();
      if (broken[0]) {
        throw new SandboxSetupException("nsjail is gone");
      }
    }, clock);
    assertThat(gate.probe()).isTrue();
    // A tenant at its process limit fails to start jails, again and again: the first failure is
    // checked with a probe at once, which passes; the next ones within a few seconds cost nothing.
    for (int i = 0; i < 100; i++) {
      gate.reportSetupFailure("clone failed: Resource temporarily unavailable");
      gate.require();
    }
    assertThat(probes.get()).isEqualTo(2);
    assertThat(gate.healthy()).isTrue();

    // Seconds later, a failure is worth a probe; a broken jail is then refused.
    clock.advance(java.time.Duration.ofSeconds(6));
    broken[0] = true;
    gate.reportSetupFailure("nsjail is gone");
    assertThatThrownBy(gate::require).isInstanceOf(PaddockException.FailedPrecondition.class);
    assertThat(probes.get()).isEqualTo(3);
    assertThat(gate.healthy()).isFalse();
  }
}
