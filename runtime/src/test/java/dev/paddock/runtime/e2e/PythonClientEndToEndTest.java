package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.sandbox.ToolRun;
import dev.paddock.runtime.tenant.Scope;
import dev.paddock.runtime.tenant.TenantAdmin;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Python client's own tests (clients/python/tests, pytest) against this real host: the package
 * is built first (its gRPC stubs generated from the repo's protos) into the venv scripts/setup makes.
 */
class PythonClientEndToEndTest extends SharedHostTest {
  static Path venv() {
    Path venv = dev.paddock.sandbox.JailRequirement.projectRoot().resolve(".paddock/tools/python-client");
    // scripts/setup makes it; a machine without it is not set up (never a reason to skip).
    assertThat(venv.resolve("bin/python")).as("the Python client's venv (run scripts/setup)").isExecutable();
    return venv;
  }

  /** Builds and installs clients/python into the venv, as a user would with pip. */
  static void installClient() throws Exception {
    Path root = dev.paddock.sandbox.JailRequirement.projectRoot();
    ToolRun install = ToolRun.run(root, Map.of(), Duration.ofMinutes(5), List.of(venv().resolve("bin/pip").toString(),
        "install", "--quiet", "--no-deps", "--no-build-isolation", "--force-reinstall", "--disable-pip-version-check",
        root.resolve("clients/python").toString()));
    assertThat(install.exit()).as(install.output()).isZero();
  }

  private String narrowKey() throws Exception {
    String key = new TenantAdmin(host.dataDir.resolve("tenants.yaml"), Clock.systemUTC())
        .createKey("alpha", "sessions-only", EnumSet.of(Scope.SESSIONS)).key();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) { // it works once the host has read the tenants file again
      try {
        host.sessions(key).listSessions(dev.paddock.ipc.v1.ListSessionsRequest.getDefaultInstance());
        return key;
      } catch (io.grpc.StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  @Test
  void thePythonClientsTestsPassAgainstARealHost() throws Exception {
    installClient();
    Path root = dev.paddock.sandbox.JailRequirement.projectRoot();
    ToolRun tests = ToolRun.run(root.resolve("clients/python"), Map.of(
        "PADDOCK_TEST_SERVER", "127.0.0.1:" + host.port(),
        "PADDOCK_TEST_KEY", host.alphaKey,
        "PADDOCK_TEST_OTHER_KEY", host.betaKey,
        "PADDOCK_TEST_SMALL_KEY", host.gammaKey,
        "PADDOCK_TEST_NARROW_KEY", narrowKey()),
        Duration.ofMinutes(5), List.of(venv().resolve("bin/python").toString(), "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests"));
    System.out.println(tests.output());
    assertThat(tests.exit()).as(tests.output()).isZero();
    assertThat(tests.output()).containsPattern("\\d+ passed").doesNotContain("skipped").doesNotContain("failed");
  }
}
