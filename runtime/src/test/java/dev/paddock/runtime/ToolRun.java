package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A stock tool the tests run to its end (grpcurl, buf, pytest, protoc-gen-doc, k8s-check): its exit
 * code and its stdout and stderr together.
 *
 * @param exit   its exit code
 * @param output what it printed, stdout and stderr interleaved
 */
public record ToolRun(int exit, String output) {
  /** Runs {@code command} in {@code dir} (null: this process's) with {@code env} added; fails the test past {@code timeout}. */
  public static ToolRun run(Path dir, Map<String, String> env, Duration timeout, List<String> command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)).as("%s finished", command.get(0)).isTrue();
    return new ToolRun(p.exitValue(), output);
  }
}
