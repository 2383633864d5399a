package dev.paddock.runtime.e2e;

import dev.paddock.runtime.cli.PaddockCli;
import dev.paddock.sandbox.JailRequirement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code paddock serve} in a JVM of its own, as an operator runs it: for tests that kill a host
 * outright or start two on one data directory. Its stdout and stderr go to a log file.
 */
final class HostProcess implements AutoCloseable {
  private static final Pattern SERVING = Pattern.compile("paddock serving on [^\\s:]+:(\\d+)");

  final Process process;
  final Path log;
  private final int port;

  private HostProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts {@code paddock serve --port 0} on {@code dataDir} and waits (up to 60 s) until it serves. */
  static HostProcess start(Path dataDir, Path log) throws Exception {
    Process process = launch(dataDir, log);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < end) {
      Matcher m = SERVING.matcher(read(log));
      if (m.find()) {
        return new HostProcess(process, log, Integer.parseInt(m.group(1)));
      }
      if (!process.isAlive()) {
        throw new AssertionError("the host exited with " + process.exitValue() + " before serving:\n" + read(log));
      }
      Thread.sleep(50);
    }
    process.destroyForcibly().waitFor();
    throw new AssertionError("the host did not serve within 60 s:\n" + read(log));
  }

  /** Launches {@code paddock serve --port 0} on {@code dataDir}, not waiting for anything. */
  static Process launch(Path dataDir, Path log) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"),
        PaddockCli.class.getName(), "serve",
        "--port", "0", "--data-dir", dataDir.toString(), "--nsjail", JailRequirement.nsjail().toString()));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  int port() {
    return port;
  }

  /** SIGKILL: the host gets no chance to clean up. Returns once the JVM is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the host JVM survived SIGKILL for 30 s");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
