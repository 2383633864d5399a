package dev.paddock.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StatsTest {

  @Test
  void nearestRankPercentilesOfOneToHundred() {
    long[] samples = new long[100];
    for (int i = 0; i < 100; i++) {
      samples[i] = 100 - i; // unsorted on purpose
    }
    Stats s = Stats.of(samples);
    assertThat(s.count()).isEqualTo(100);
    assertThat(s.min()).isEqualTo(1);
    assertThat(s.p50()).isEqualTo(50);
    assertThat(s.p90()).isEqualTo(90);
    assertThat(s.p99()).isEqualTo(99);
    assertThat(s.max()).isEqualTo(100);
    assertThat(s.mean()).isEqualTo(50.5);
    assertThat(samples[0]).as("input left unsorted").isEqualTo(100);
  }

  @Test
  void smallSeriesPickRealSamples() {
    Stats s = Stats.of(new long[] {30, 10, 20});
    assertThat(s.p50()).isEqualTo(20); // rank ceil(1.5) = 2
    assertThat(s.p90()).isEqualTo(30); // rank ceil(2.7) = 3
    assertThat(s.p99()).isEqualTo(30);
    assertThat(Stats.of(new long[] {7}).p50()).isEqualTo(7);
  }

  @Test
  void refusesEmptySeries() {
    assertThatThrownBy(() -> Stats.of(new long[0])).isInstanceOf(IllegalArgumentException.class);
  }
}
