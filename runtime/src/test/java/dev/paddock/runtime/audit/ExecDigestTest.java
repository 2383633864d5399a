package dev.paddock.runtime.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.runtime.session.ExecSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What an exec's arguments_sha256 covers: the command, never a variable's value or stdin. */
class ExecDigestTest {
  private static ExecSpec spec(List<String> argv, Map<String, String> env, String cwd, Map<String, String> secrets) {
    return new ExecSpec(argv, env, cwd, "stdin".getBytes(), Duration.ofSeconds(1), null, false, false, secrets);
  }

  @Test
  void theDigestCoversTheCommandButNoValue() {
    byte[] base = AuditTrail.digest(spec(List.of("curl", "-s"), Map.of("TOKEN", "hunter2"), "src", Map.of("GH", "GITHUB")));
    assertThat(AuditTrail.digest(spec(List.of("curl", "-s"), Map.of("TOKEN", "other"), "src", Map.of("GH", "GITHUB"))))
        .as("a variable's value is not covered").isEqualTo(base);
    assertThat(AuditTrail.digest(spec(List.of("curl", "-v"), Map.of("TOKEN", "hunter2"), "src", Map.of("GH", "GITHUB"))))
        .isNotEqualTo(base);
    assertThat(AuditTrail.digest(spec(List.of("curl", "-s"), Map.of("TOKEN2", "hunter2"), "src", Map.of("GH", "GITHUB"))))
        .isNotEqualTo(base);
    assertThat(AuditTrail.digest(spec(List.of("curl", "-s"), Map.of("TOKEN", "hunter2"), "", Map.of("GH", "GITHUB"))))
        .isNotEqualTo(base);
    assertThat(AuditTrail.digest(spec(List.of("curl", "-s"), Map.of("TOKEN", "hunter2"), "src", Map.of("GH", "NPM"))))
        .isNotEqualTo(base);
    // Boundaries are length-prefixed: moving a character between two arguments changes the digest.
    assertThat(AuditTrail.digest(spec(List.of("ab", "c"), Map.of(), "", Map.of())))
        .isNotEqualTo(AuditTrail.digest(spec(List.of("a", "bc"), Map.of(), "", Map.of())));
  }
}
