package dev.paddock.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import dev.paddock.client.Paddock;
import dev.paddock.client.Session;
import dev.paddock.client.SessionFiles;
import dev.paddock.sandbox.DockerEngine;
import dev.paddock.sandbox.JailRequirement;
import dev.paddock.sandbox.LoopbackPorts;
import dev.paddock.sandbox.ToolRun;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The host image, built by scripts/host-image from this build's jar, started with Debian's Docker
 * engine with the privileges docs/operations.md gives, and used over gRPC on a TCP port: an exec
 * runs in a jail inside the container, a file goes in and out, and the image's HEALTHCHECK reports
 * healthy. The same image without those privileges cannot jail, and says so. Linux only; with
 * {@code CI=true} it never skips.
 */
class ContainerImageEndToEndTest {
  private static final String IMAGE = "paddock:0.1.0";
  private static final Pattern DEMO_KEY = Pattern.compile("PADDOCK_API_KEY=(pdk_[A-Za-z0-9_-]+)");

  /**
   * The fewest privileges the host runs its jails with in a container (docs/operations.md,
   * "Containers", says why each one). The seccomp profile's path is added by the test.
   */
  static final List<String> CAPABILITIES = List.of("SYS_ADMIN", "NET_ADMIN", "SETUID", "SETGID", "DAC_OVERRIDE", "CHOWN",
      "FOWNER");
  static final List<String> PRIVILEGES = java.util.stream.Stream.concat(java.util.stream.Stream.concat(
      java.util.stream.Stream.of("--cap-drop=ALL"), CAPABILITIES.stream().map(c -> "--cap-add=" + c)),
      java.util.stream.Stream.of("--security-opt=apparmor=unconfined", "--security-opt=systempaths=unconfined",
          "--security-opt=no-new-privileges")).toList();

  @Test
  void theGuideAndTheKubernetesManifestGiveTheSamePrivilegesAsThisTest() throws Exception {
    Path root = JailRequirement.projectRoot();
    String guide = Files.readString(root.resolve("docs/operations.md"));
    for (String flag : PRIVILEGES) {
      assertThat(guide).as("docs/operations.md's docker run line").contains(flag);
    }
    assertThat(guide).contains("--security-opt=seccomp=deploy/container/seccomp.json");
    Matcher added = Pattern.compile("(?m)^\\s*add: \\[([A-Z_, ]+)]").matcher(
        Files.readString(root.resolve("deploy/kubernetes/paddock.yaml")));
    assertThat(added.find()).as("capabilities.add in deploy/kubernetes/paddock.yaml").isTrue();
    assertThat(List.of(added.group(1).split(",\\s*"))).containsExactlyInAnyOrderElementsOf(CAPABILITIES);
  }

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void theImageRunsAnExecInAJailInsideTheContainerAndReportsHealthy() throws Exception {
    JailRequirement.nsjail(); // Linux, or a skip (a failure under CI=true)
    Path root = JailRequirement.projectRoot();
    assertThat(root.resolve("runtime/target/paddock.jar")).as("the host's jar, built before this module").exists();
    try (DockerEngine engine = DockerEngine.start()) {
      ToolRun build = ToolRun.run(root, Map.of("DOCKER_HOST", DockerEngine.SOCKET), Duration.ofMinutes(10),
          List.of(root.resolve("scripts/host-image").toString()));
      assertThat(build.exit()).as(build.output()).isZero();
      assertThat(engine.docker("image", "inspect", "--format", "{{json .Config.Healthcheck.Test}}", IMAGE))
          .contains("paddock", "health");

      int port = LoopbackPorts.free();
      String name = "paddock-test-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
      List<String> run = new ArrayList<>(List.of("run", "-d", "--name", name, "--network=host",
          "--env=PADDOCK_SERVER=127.0.0.1:" + port, "--health-interval=2s"));
      run.addAll(PRIVILEGES);
      run.add("--security-opt=seccomp=" + root.resolve("deploy/container/seccomp.json"));
      run.addAll(List.of(IMAGE, "serve", "--bind=127.0.0.1", "--port=" + port, "--metrics=off"));
      ToolRun started = engine.call(run.toArray(String[]::new));
      assertThat(started.exit()).as(started.output()).isZero();
      try {
        String key = demoKey(engine, name);
        Paddock.Builder target = Paddock.builder().target("127.0.0.1:" + port).deadline(Duration.ofSeconds(30));
        assertThat(target.checkHealth()).isEqualTo(ServingStatus.SERVING);
        try (Paddock paddock = target.apiKey(key).build(); Session session = paddock.createSession()) {
          // In a jail: the sandbox's own user, hostname and supervisor; the image's /usr (python3).
          var outcome = session.exec("sh", "-c", "id -u; hostname; cat /proc/1/comm; python3 -c 'print(6 * 7)'");
          assertThat(outcome.ok()).as(outcome.result() + outcome.stderrText()).isTrue();
          assertThat(outcome.stdoutText()).isEqualTo("1000\npaddock\npaddock-init\n42\n");
          SessionFiles files = session.files();
          files.write("in.txt", "hello\n".getBytes(StandardCharsets.UTF_8));
          var second = session.exec("sh", "-c", "cat in.txt; echo made > out.txt");
          assertThat(second.ok()).as(second.result() + second.stderrText()).isTrue();
          assertThat(second.stdoutText()).isEqualTo("hello\n");
          assertThat(new String(files.read("out.txt"), StandardCharsets.UTF_8)).isEqualTo("made\n");
          // The jail's processes are the container's: nsjail and paddock-init, as the sandbox user.
          assertThat(engine.docker("top", name, "-eo", "pid,user,comm")).contains("nsjail").containsPattern("99999 +paddock-init");
        }
        awaitHealthy(engine, name);
      } finally {
        String logs = engine.docker("logs", name);
        ToolRun removed = engine.call("rm", "-f", "-v", name);
        if (removed.exit() != 0) {
          fail("cannot remove container " + name + ": " + removed.output() + "\nits log:\n" + logs);
        }
      }

      // Without the privileges (Docker's defaults): the host cannot jail here, and its doctor says why;
      // the host itself starts, serves NOT_SERVING and refuses sessions (it fails closed).
      ToolRun doctor = engine.call("run", "--rm", "--network=host", IMAGE, "doctor");
      assertThat(doctor.exit()).as(doctor.output()).isEqualTo(1);
      assertThat(doctor.output()).containsPattern("cgroups +FAIL").containsPattern("jail +FAIL")
          .contains("this machine cannot run a Paddock host");
      int unprivilegedPort = LoopbackPorts.free();
      String unprivileged = name + "-unprivileged";
      ToolRun plain = engine.call("run", "-d", "--name", unprivileged, "--network=host", IMAGE, "serve",
          "--bind=127.0.0.1", "--port=" + unprivilegedPort, "--metrics=off");
      assertThat(plain.exit()).as(plain.output()).isZero();
      try {
        String key = demoKey(engine, unprivileged);
        Paddock.Builder target = Paddock.builder().target("127.0.0.1:" + unprivilegedPort);
        assertThat(target.checkHealth()).isEqualTo(ServingStatus.NOT_SERVING);
        try (Paddock paddock = target.apiKey(key).build()) {
          assertThatThrownBy(paddock::createSession).isInstanceOfSatisfying(dev.paddock.client.PaddockException.class,
              e -> assertThat(e.reason()).isEqualTo("JAIL_UNAVAILABLE"));
        }
        assertThat(engine.docker("logs", unprivileged)).containsPattern("cannot make the container's cgroups writable:.* /sys/fs/cgroup/memory ");
      } finally {
        engine.call("rm", "-f", "-v", unprivileged);
      }
    }
  }

  /** The demo tenant's key, printed once by the host's first start (its data volume is new). */
  private static String demoKey(DockerEngine engine, String name) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String logs = "";
    while (System.nanoTime() < deadline) {
      logs = engine.docker("logs", name);
      Matcher m = DEMO_KEY.matcher(logs);
      if (logs.contains("paddock serving on") && m.find()) {
        return m.group(1);
      }
      if (engine.docker("inspect", "--format", "{{.State.Running}}", name).strip().equals("false")) {
        break;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the host in the container did not start; its log:\n" + logs);
  }

  /** Waits for Docker's verdict from the image's own HEALTHCHECK (every 2 s here). */
  private static void awaitHealthy(DockerEngine engine, String name) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String health = "";
    while (System.nanoTime() < deadline) {
      health = engine.docker("inspect", "--format", "{{json .State.Health}}", name);
      if (health.contains("\"Status\":\"healthy\"")) {
        assertThat(health).contains("\"Output\":\"SERVING\\n\"");
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("the container's health check did not pass: " + health);
  }
}
