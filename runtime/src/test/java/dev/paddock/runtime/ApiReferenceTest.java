package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.sandbox.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The committed API reference (docs/api) is what scripts/api-docs makes of the protos now. */
class ApiReferenceTest {
  @Test
  void theCommittedReferenceMatchesTheProtos(@TempDir Path out) throws Exception {
    Path root = dev.paddock.sandbox.JailRequirement.projectRoot();
    ToolRun docs = ToolRun.run(null, java.util.Map.of(), java.time.Duration.ofMinutes(2),
        java.util.List.of(root.resolve("scripts/api-docs").toString(), out.toString()));
    assertThat(docs.exit()).as(docs.output()).isZero();
    for (String page : new String[] {"paddock.v1.html", "paddock.v1.md"}) {
      assertThat(Files.readString(out.resolve(page)))
          .as("docs/api/%s is stale: run scripts/api-docs and commit it", page)
          .isEqualTo(Files.readString(root.resolve("docs/api").resolve(page)));
    }
    assertThat(Files.readString(out.resolve("paddock.v1.md"))).contains("SESSION_NOT_FOUND")
        .contains("Returns one session of the caller&#39;s tenant.");
  }
}
