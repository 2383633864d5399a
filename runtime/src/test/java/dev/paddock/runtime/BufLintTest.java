package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.sandbox.ToolRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The protos pass `buf lint` under buf.yaml (STANDARD, less its documented exceptions). */
class BufLintTest {
  @Test
  void theProtosPassBufLint() throws Exception {
    Path root = dev.paddock.sandbox.JailRequirement.projectRoot();
    Path buf = root.resolve(".paddock/tools/buf/buf");
    // scripts/setup builds it; a machine without it is not set up (never a reason to skip).
    assertThat(buf).as("buf (run scripts/setup)").isExecutable();
    ToolRun lint = ToolRun.run(root, java.util.Map.of(), java.time.Duration.ofMinutes(2), java.util.List.of(buf.toString(), "lint"));
    assertThat(lint.exit()).as(lint.output()).isZero();
    assertThat(lint.output()).isEmpty();
  }
}
