package dev.paddock.sandbox;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A stock tool the tests run to its end (grpcurl, buf, pytest, protoc-gen-doc, k8s-check, scripts): its exit
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
    p.getOutputStream().close(); // no input: a tool that asks for some reads end of file
    // Read beside the wait, so the timeout holds even for a tool that never closes its output.
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (java.io.IOException e) {
        return e.toString();
      }
    });
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command.get(0) + " did not finish in " + timeout.toSeconds() + " s: " + output.getNow(""));
    }
    return new ToolRun(p.exitValue(), output.get(10, TimeUnit.SECONDS));
  }
}
