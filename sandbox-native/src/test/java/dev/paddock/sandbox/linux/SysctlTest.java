package dev.paddock.sandbox.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SysctlTest {
  @Test
  void readsAWholeNumericSettingWhereReadStringGetsItsFirstByte() throws Exception {
    Path pipeMax = Path.of("/proc/sys/fs/pipe-max-size");
    assumeTrue(Files.exists(pipeMax), "no /proc/sys: not Linux");
    // The value a shell reads, from a separate process, to compare with.
    Process cat = new ProcessBuilder("cat", pipeMax.toString()).start();
    long expected = Long.parseLong(new String(cat.getInputStream().readAllBytes()).trim());
    cat.waitFor();
    assertThat(expected).isGreaterThan(9); // else this test could not tell the two readers apart
    assertThat(Sysctl.readLong(pipeMax)).hasValue(expected);
    assertThat(Sysctl.read(pipeMax)).isEqualTo(Long.toString(expected));
  }

  @Test
  void anUnreadableOrNonNumericSettingIsEmpty(@TempDir Path dir) throws Exception {
    assertThat(Sysctl.read(dir.resolve("missing"))).isEmpty();
    assertThat(Sysctl.readLong(dir.resolve("missing"))).isEmpty();
    Files.writeString(dir.resolve("text"), "kill_process errno\n");
    assertThat(Sysctl.read(dir.resolve("text"))).isEqualTo("kill_process errno");
    assertThat(Sysctl.readLong(dir.resolve("text"))).isEmpty();
  }
}
