package dev.paddock.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @Test
  void readsTheWaysPeopleWriteDurations() {
    assertThat(Durations.parse("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("2s500ms")).isEqualTo(Duration.ofMillis(2500));
    assertThat(Durations.parse("1d")).isEqualTo(Duration.ofHours(24));
    assertThat(Durations.parse(" 5m ")).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aPlainNumberIsSeconds() {
    assertThat(Durations.parse("90")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("0.25")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
  }

  @Test
  void isoStillWorks() {
    assertThat(Durations.parse("PT30S")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("PT1M30S")).isEqualTo(Duration.ofSeconds(90));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "s", "5x", "-5s", "5 s", "1m30", "ms", "5M", "1.s", "PT-5S", "P", "five"})
  void refusesAnythingElseWithAMessageThatShowsTheWay(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid duration '" + text + "'")
        .hasMessageContaining("1m30s");
  }

  @Test
  void formatsForHumans() {
    assertThat(Durations.format(Duration.ofMinutes(5))).isEqualTo("5m");
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
    assertThat(Durations.format(Duration.ofHours(25))).isEqualTo("1d1h");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    for (String s : new String[] {"5m", "1m30s", "1d1h", "1.5s", "250ms", "0s", "2h0m1s"}) {
      Duration d = Durations.parse(s);
      assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
    }
  }

  @Test
  void convertsToAndFromProto() {
    Duration d = Duration.ofMillis(1500);
    com.google.protobuf.Duration p = Durations.toProto(d);
    assertThat(p.getSeconds()).isEqualTo(1);
    assertThat(p.getNanos()).isEqualTo(500_000_000);
    assertThat(Durations.fromProto(p)).isEqualTo(d);
  }
}
