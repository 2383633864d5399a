package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The protos pass `buf lint` under buf.yaml (STANDARD, less its documented exceptions). */
class BufLintTest {
  @Test
  void theProtosPassBufLint() throws Exception {
    Path root = dev.paddock.sandbox.JailRequirement.projectRoot();
    Path buf = root.resolve(".paddock/tools/buf/buf");
    // scripts/setup builds it; a machine without it is not set up (never a reason to skip).
    assertThat(buf).as("buf (run scripts/setup)").isExecutable();
    Process p = new ProcessBuilder(buf.toString(), "lint").directory(root.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).isEmpty();
  }
}
