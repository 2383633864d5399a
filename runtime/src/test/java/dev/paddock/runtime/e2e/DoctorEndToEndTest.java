package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code paddock doctor} on this machine (which can jail), and on one made unable to (no nsjail). */
class DoctorEndToEndTest {
  @Test
  void everyCheckPassesHereAndARealJailStarts(@TempDir Path data) {
    CliCapture.Cli cli = CliCapture.run("doctor", "--data-dir", data.toString(),
        "--nsjail", dev.paddock.sandbox.JailRequirement.nsjail().toString());
    assertThat(cli.exit()).as(cli.out() + cli.err()).isZero();
    assertThat(cli.out()).contains("CHECK", "linux", "root", "cgroups", "user namespaces", "seccomp", "nsjail", "vsock",
        "data dir").containsPattern("jail +OK +a jail started and ran /bin/true")
        .contains("this machine can run a Paddock host").doesNotContain("FAIL")
        // the whole number, as the kernel gives it (a plain file read of a numeric sysctl gets its first byte)
        .contains("user.max_user_namespaces = " + dev.paddock.sandbox.linux.Sysctl.read(
            Path.of("/proc/sys/user/max_user_namespaces")) + "\n");
  }

  @Test
  void withoutNsjailItSaysWhyAndHowToFixItAndExitsNonZero(@TempDir Path data) {
    CliCapture.Cli cli = CliCapture.run("doctor", "--data-dir", data.toString(), "--nsjail", "/nonexistent/nsjail", "--json");
    assertThat(cli.exit()).isEqualTo(1);
    assertThat(cli.out()).contains("{\"check\":\"nsjail\",\"status\":\"FAIL\",\"detail\":\"not found: /nonexistent/nsjail\","
        + "\"fix\":\"run scripts/setup, or pass --nsjail PATH\"}")
        .containsPattern("\\{\"check\":\"jail\",\"status\":\"FAIL\",\"detail\":\"[^\"]+\"")
        .contains("{\"check\":\"seccomp\",\"status\":\"OK\"");
  }
}
