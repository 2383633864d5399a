package dev.paddock.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The container tests' own Docker engine (the browser provider's, the host image's): Debian's dockerd on the socket DOCKER_HOST names (the
 * build sets it for tests), started as scripts/docker-engine starts it (no bridge, no firewall
 * rules, no masquerading) and stopped by its PID. A test may stop it and start it again to play a
 * provider that dies and comes back.
 */
public final class DockerEngine implements AutoCloseable {
  public static final Path DIR = Path.of("/tmp/paddock-docker");
  public static final String SOCKET = "unix://" + DIR.resolve("docker.sock");
  private Process dockerd;

  private DockerEngine() {}

  /**
   * Starts the engine. Fails when one already answers on the socket: that one is not the test's to
   * stop (scripts/setup stops the one it starts).
   */
  public static DockerEngine start() throws Exception {
    if (answers()) {
      throw new IllegalStateException("a Docker engine already answers on " + SOCKET + "; the container tests start and"
          + " stop their own (stop that one first)");
    }
    DockerEngine engine = new DockerEngine();
    engine.up();
    return engine;
  }

  /** Starts dockerd (again) and waits until it answers. */
  public void up() throws Exception {
    Files.createDirectories(DIR);
    dockerd = new ProcessBuilder("dockerd", "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false",
        "--host", SOCKET, "--pidfile", DIR.resolve("dockerd.pid").toString(), "--data-root", "/var/lib/paddock-docker",
        "--exec-root", DIR.resolve("exec").toString())
        .redirectErrorStream(true).redirectOutput(DIR.resolve("dockerd-test.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!answers()) {
      if (!dockerd.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("dockerd did not answer within 30 s; see " + DIR.resolve("dockerd-test.log"));
      }
      Thread.sleep(100);
    }
  }

  /**
   * The engine goes away as a crashed one would for its clients: its socket disappears first (every
   * call fails at once, so nothing can start a container on it any more), then its containers are
   * killed through the socket's new name, then dockerd is stopped (SIGTERM, by its PID), and the
   * containerd shims it leaves behind (ours: they run under its exec root) are ended.
   */
  public void down() throws Exception {
    if (dockerd == null) {
      return;
    }
    Path socket = DIR.resolve("docker.sock");
    Path hidden = DIR.resolve("docker.sock.down");
    Files.move(socket, hidden, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    String at = "unix://" + hidden;
    for (String id : dockerAt(at, "ps", "-q").output().lines().filter(l -> !l.isBlank()).toList()) {
      dockerAt(at, "rm", "-f", id);
    }
    dockerd.destroy();
    if (!dockerd.waitFor(60, TimeUnit.SECONDS)) {
      dockerd.destroyForcibly();
      dockerd.waitFor(10, TimeUnit.SECONDS);
    }
    dockerd = null;
    ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("containerd-shim")
        && p.info().commandLine().orElse("").contains(DIR.resolve("exec").toString())).forEach(ProcessHandle::destroy);
    Files.deleteIfExists(hidden);
  }

  public boolean hasImage(String image) throws Exception {
    return call("image", "inspect", image).exit() == 0;
  }

  /** A docker command's output (stdout and stderr); see {@link #call} for its exit status too. */
  public String docker(String... args) throws Exception {
    return call(args).output();
  }

  /** Runs a docker command against this engine; fails the test past 30 s. */
  public ToolRun call(String... args) throws Exception {
    return dockerAt(SOCKET, args);
  }

  private static ToolRun dockerAt(String host, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("docker", "-H", host));
    command.addAll(List.of(args));
    return ToolRun.run(null, java.util.Map.of(), java.time.Duration.ofSeconds(30), command);
  }

  private static boolean answers() throws Exception {
    return dockerAt(SOCKET, "info").exit() == 0;
  }

  @Override
  public void close() throws java.io.IOException {
    try {
      down();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.IOException("interrupted while stopping dockerd", e);
    } catch (java.io.IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new java.io.IOException(e);
    }
  }
}
