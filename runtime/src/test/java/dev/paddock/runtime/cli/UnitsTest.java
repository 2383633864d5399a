package dev.paddock.runtime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class UnitsTest {
  private static final long KI = 1024;
  private static final long MI = KI * KI;
  private static final long GI = MI * KI;

  @Test
  void sizesAreBytesOrBinaryUnits() {
    assertThat(Units.parseBytes("1048576")).isEqualTo(MI);
    assertThat(Units.parseBytes("256M")).isEqualTo(256 * MI);
    assertThat(Units.parseBytes("1G")).isEqualTo(GI);
    assertThat(Units.parseBytes("512Ki")).isEqualTo(512 * KI);
    assertThat(Units.parseBytes("64MiB")).isEqualTo(64 * MI);
    assertThat(Units.parseBytes("1.5G")).isEqualTo(GI + GI / 2);
    assertThat(Units.parseBytes("256m")).isEqualTo(256 * MI);
    assertThat(Units.parseBytes("64MB")).isEqualTo(64 * MI);
    assertThat(Units.parseBytes("2T")).isEqualTo(2 * GI * KI);
    assertThat(Units.parseBytes("100B")).isEqualTo(100);
    assertThat(Units.parseBytes("0.1K")).isEqualTo(102); // a fraction of a byte is dropped
    assertThat(Units.parseBytes("0")).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "M", "-1", "1.5", "12X", "1 Q", "1e6", "99999999999999999999", "9000000T"})
  void badSizesAreRefusedWithTheirText(String text) {
    assertThatThrownBy(() -> Units.parseBytes(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid size '" + text + "'");
  }

  @Test
  void formatsSizesForHumans() {
    assertThat(Units.formatBytes(512 * MI)).isEqualTo("512 MiB");
    assertThat(Units.formatBytes(GI + GI / 2)).isEqualTo("1.5 GiB");
    assertThat(Units.formatBytes(1000)).isEqualTo("1000 B");
    assertThat(Units.formatBytes(64 * KI)).isEqualTo("64 KiB");
  }

  @ParameterizedTest
  @CsvSource({"0.5,500", "500m,500", "2,2000", "1.5,1500", "10m,10", "0.001,1"})
  void cpuIsCoresOrMillicores(String text, int millicores) {
    assertThat(Units.parseMillicores(text)).isEqualTo(millicores);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "0m", "0.0005", "1.5m", "-1", "half", "1c", "99999999"})
  void badCpuIsRefused(String text) {
    assertThatThrownBy(() -> Units.parseMillicores(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid CPU '" + text + "'");
  }

  @Test
  void formatsCpuAsCores() {
    assertThat(Units.formatMillicores(1000)).isEqualTo("1");
    assertThat(Units.formatMillicores(500)).isEqualTo("0.5");
    assertThat(Units.formatMillicores(2500)).isEqualTo("2.5");
    assertThat(Units.formatMillicores(10)).isEqualTo("0.01");
  }

  @Test
  void modesAreOctalWithin0777() {
    assertThat(Units.parseMode("644")).isEqualTo(0644);
    assertThat(Units.parseMode("0755")).isEqualTo(0755);
    assertThat(Units.parseMode("0")).isZero();
    assertThat(Units.formatMode(0644)).isEqualTo("0644");
    for (String bad : new String[] {"", "8", "rwx", "4755", "1000", "u+x", "07777"}) {
      assertThatThrownBy(() -> Units.parseMode(bad)).hasMessageContaining("invalid mode");
    }
  }

  @Test
  void aBadUnitOnTheCommandLineIsAParameterErrorWithExitCode120() {
    assertThat(parameterError("session", "create", "--memory", "12X")).contains("Invalid value for option '--memory'")
        .contains("invalid size '12X'");
    assertThat(parameterError("session", "create", "--cpu", "lots")).contains("Invalid value for option '--cpu'")
        .contains("invalid CPU 'lots'");
    assertThat(parameterError("session", "create", "--idle-timeout", "5x")).contains("Invalid value for option '--idle-timeout'")
        .contains("invalid duration '5x'");
    assertThat(parameterError("exec", "--time-limit", "soon", "--", "true")).contains("invalid duration 'soon'");
    assertThat(parameterError("files", "chmod", "--session", "s", "x", "rwx")).contains("invalid mode 'rwx'");
    assertThat(parameterError("kill", "--session", "s", "--signal", "STOP", "e1")).contains("unknown signal 'STOP'");
  }

  private static String parameterError(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = PaddockCli.commandLine();
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    assertThat(exit).isEqualTo(120);
    return err.toString();
  }
}
