package dev.paddock.browser.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.browser.Browser;
import dev.paddock.browser.BrowserRequest;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import dev.paddock.sandbox.jail.InitBinary;
import dev.paddock.sandbox.jail.JailConfig;
import dev.paddock.sandbox.jail.JailLauncher;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Chromium in a real Paddock jail, driven over its DevTools pipe. Runs wherever a jail can
 * exist (Linux); there, a missing nsjail or Chromium is a failure (scripts/setup installs both).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalChromiumTest {
  private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
  private final ExecutorService callbacks = Executors.newCachedThreadPool();
  private JailLauncher launcher;
  private LocalChromiumProvider provider;
  private CgroupLayout layout;

  @BeforeAll
  void start(@TempDir Path temp) throws Exception {
    if (!System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      Assumptions.abort("jails exist only on Linux; this is " + System.getProperty("os.name"));
    }
    Path root = Path.of(System.getProperty("paddock.root", "..")).toAbsolutePath().normalize();
    String env = System.getenv("PADDOCK_NSJAIL");
    Path nsjail = env != null && !env.isBlank() ? Path.of(env) : root.resolve(".paddock/tools/nsjail/nsjail/bin/nsjail");
    assertThat(nsjail).as("nsjail (scripts/setup installs it)").isExecutable();
    assertThat(LocalChromiumProvider.installed()).as("Chromium at " + LocalChromiumProvider.CHROMIUM + " (scripts/setup installs it)")
        .isTrue();
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwx--x--x"));
    Path init = InitBinary.locate(null, temp.resolve("bin"));
    launcher = new JailLauncher(new JailConfig(nsjail, init, temp.resolve("scratch"), 99999, 99999),
        CgroupDriver.detect(Path.of("/sys/fs/cgroup")), LinuxSyscalls.system(), timers, callbacks);
    layout = CgroupLayout.forDataDir(temp);
    provider = new LocalChromiumProvider((id, tenant, policy, workspace) -> launcher.start(id, layout.session(tenant, id), policy,
        workspace), EgressHandoff.NONE, Duration.ofSeconds(30));
  }

  @AfterAll
  void stop() throws Exception {
    if (launcher != null) {
      launcher.removeLeftovers(layout.hostRoot());
      launcher.close();
    }
    timers.shutdownNow();
    callbacks.shutdownNow();
  }

  @Test
  void aJailedChromiumLoadsAPageReadsItsTextAndTakesAScreenshot() throws Exception {
    try (Browser browser = provider.acquire(new BrowserRequest("alpha", "task-1"))) {
      assertThat(browser.navigate("data:text/html,<title>Greeting</title><h1>Hello from a jailed browser</h1>",
          Duration.ofSeconds(30)).title()).isEqualTo("Greeting");
      assertThat(browser.text()).contains("Hello from a jailed browser");
      byte[] png = browser.screenshot();
      assertThat(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
      assertThat(png.length).isGreaterThan(1000);
    }
  }

  @Test
  void itsOnlyWayOutIsTheJailsProxyWhichNothingServesHere() throws Exception {
    try (Browser browser = provider.acquire(new BrowserRequest("alpha", "task-2"))) {
      assertThat(browser.navigate("http://example.com/", Duration.ofSeconds(30)).errorText()).startsWith("net::ERR_");
    }
  }
}
