package dev.paddock.browser.local;

import dev.paddock.browser.Browser;
import dev.paddock.browser.WarmableProvider;
import dev.paddock.browser.cdp.CdpBrowser;
import dev.paddock.browser.BrowserRequest;
import dev.paddock.browser.ProviderException;
import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.PolicyException;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.jail.EgressListeners;
import dev.paddock.sandbox.jail.ExecCommand;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.WorkspaceLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Debian's Chromium, each browser in a Paddock jail of its own (every namespace, the tool policy's
 * seccomp kill-list, its own cgroup), driven over {@code --remote-debugging-pipe}: no DevTools port
 * exists anywhere. The pipe is the jail exec's stdin and stdout, renumbered to 3 and 4 by the shell
 * that starts Chromium. A fresh profile in the jail's /tmp, gone with the jail.
 *
 * <p>Chromium runs with {@code --no-sandbox}: its own sandbox needs user namespaces, which the
 * jail's seccomp policy refuses; the jail is the sandbox. Its only way out is the jail's egress
 * proxy on 127.0.0.1:3128 ({@code --proxy-server}), served by the {@link EgressHandoff} (the host:
 * under the allow-lists of the browser's session, every navigation and subresource alike).
 */
public final class LocalChromiumProvider implements WarmableProvider {
  /** Where Debian puts the binary (the /usr/bin wrapper is a shell script). */
  public static final Path CHROMIUM = Path.of("/usr/lib/chromium/chromium");
  private static final long MEMORY_BYTES = 1536L << 20;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final JailStarter jails;
  private final EgressHandoff egress;
  private final SandboxPolicy policy;
  private final Duration startTimeout;

  /**
   * @param jails  starts each browser's jail (the host: under the tenant's cgroup)
   * @param egress serves each browser's way out ({@link EgressHandoff#NONE}: none)
   */
  public LocalChromiumProvider(JailStarter jails, EgressHandoff egress, Duration startTimeout) {
    this.jails = jails;
    this.egress = egress;
    this.startTimeout = startTimeout;
    try {
      // Fonts and Chromium's own configuration, read-only, beside the tool policy's mounts.
      this.policy = DefaultPolicies.toolBuilder()
          .mountReadOnlyIfExists(Path.of("/etc/fonts"))
          .mountReadOnlyIfExists(Path.of("/etc/chromium"))
          .mountReadOnlyIfExists(Path.of("/etc/chromium.d"))
          .limits(l -> l.memory(MEMORY_BYTES).processes(256).openFiles(1024).tmpfs(256L << 20))
          .build();
    } catch (PolicyException e) {
      throw new IllegalStateException("the browser policy is invalid", e);
    }
  }

  @Override
  public String name() {
    return "local";
  }

  /** True when Chromium is installed where this provider looks. */
  public static boolean installed() {
    return Files.isExecutable(CHROMIUM);
  }

  @Override
  public Browser acquire(BrowserRequest request) throws ProviderException {
    Started started = start(request.tenant());
    return started.claim(request);
  }

  /**
   * A blank browser in a jail of the host's own (the {@link JailStarter} is given no tenant), its
   * way out held unserved until it is claimed.
   */
  @Override
  public Warm startWarm() throws ProviderException {
    return start(null);
  }

  /** A started browser and its jail's unserved egress listeners. */
  private final class Started implements Warm {
    private final LocalChromium chromium;
    private final CdpBrowser browser;
    private EgressListeners listeners; // null once claimed, or when the jail has none
    private boolean claimed;

    Started(LocalChromium chromium, CdpBrowser browser, EgressListeners listeners) {
      this.chromium = chromium;
      this.browser = browser;
      this.listeners = listeners;
    }

    @Override
    public boolean alive() {
      return chromium.alive();
    }

    @Override
    public synchronized Browser claim(BrowserRequest request) throws ProviderException {
      if (claimed) {
        throw new IllegalStateException("a warm browser is claimed once");
      }
      claimed = true;
      EgressListeners taken = listeners;
      listeners = null;
      chromium.serveEgress(taken == null ? () -> {} : egress.serve(request, browser.id(), taken));
      return browser;
    }

    @Override
    public synchronized void close() {
      if (listeners != null) {
        listeners.close();
        listeners = null;
      }
      browser.close();
    }
  }

  private Started start(String tenant) throws ProviderException {
    if (!installed()) {
      throw new ProviderException("Chromium is not installed at " + CHROMIUM);
    }
    String id = "brw_" + HexFormat.of().formatHex(RANDOM.generateSeed(16));
    Jail jail;
    try {
      jail = jails.start(id, tenant, policy, new WorkspaceLimits(16 << 20, 1000));
    } catch (SandboxSetupException e) {
      throw new ProviderException("the browser's jail did not start: " + e.getMessage(), e);
    }
    EgressListeners listeners = jail.takeEgressListeners().orElse(null);
    try {
      JailProcess process = jail.spawn(command());
      LocalChromium chromium = new LocalChromium(id, jail, process, dev.paddock.sandbox.linux.LinuxSyscalls.system());
      return new Started(chromium, chromium.open(startTimeout), listeners);
    } catch (SandboxSetupException | dev.paddock.browser.BrowserException | RuntimeException e) {
      if (listeners != null) {
        listeners.close();
      }
      jail.close("the browser did not start");
      throw new ProviderException("Chromium did not start: " + e.getMessage(), e);
    }
  }

  private ExecCommand command() {
    String flags = String.join(" ", List.of("--headless", "--no-sandbox", "--no-zygote", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad", "--mute-audio",
        "--hide-scrollbars", "--user-data-dir=/tmp/profile",
        // A headless page nobody looks at must still paint (or a client's screenshot waits forever) and run its timers.
        "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding", "--proxy-server=http://127.0.0.1:3128",
        "--window-size=1280,800", "--remote-debugging-pipe"));
    // fd 3 = the exec's stdin (commands in), fd 4 = its stdout (answers out); Chromium's own
    // output goes to stderr.
    String script = "exec " + CHROMIUM + " " + flags + " about:blank 3<&0 4>&1 1>&2";
    return new ExecCommand(List.of("/bin/sh", "-c", script),
        List.of("PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8"), "/workspace", Duration.ofDays(1),
        Duration.ZERO, 256L << 20, 1024);
  }
}
