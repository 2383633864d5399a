package dev.paddock.browser.local;

import dev.paddock.browser.BrowserException;
import dev.paddock.browser.cdp.CdpBrowser;
import dev.paddock.browser.cdp.CdpConnection;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.JailProcess;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What a Chromium in its own jail is beside its page: the jail, Chromium's last words on stderr,
 * and its way out. Closed (after the page's connection) when the browser closes: the jail takes
 * Chromium's processes, profile and workspace with it.
 */
final class LocalChromium implements AutoCloseable {
  /** Chromium's last words on stderr, for the error when it dies. */
  private static final int STDERR_TAIL = 4096;

  private final String id;
  private final Jail jail;
  private final JailProcess process;
  private final LinuxSyscalls linux;
  private final StringBuffer stderrTail = new StringBuffer();
  /** What serves its way out; stopped when it closes. Nothing until it is claimed. */
  private volatile AutoCloseable egress = () -> {};
  private CdpBrowser browser;

  LocalChromium(String id, Jail jail, JailProcess process, LinuxSyscalls linux) {
    this.id = id;
    this.jail = jail;
    this.process = process;
    this.linux = linux;
  }

  /** Connects to Chromium over its pipe and opens its page; fails when it does not answer within {@code timeout}. */
  CdpBrowser open(Duration timeout) throws BrowserException {
    Thread drain = new Thread(this::drainStderr, "chromium-stderr-" + id);
    drain.setDaemon(true);
    drain.start();
    browser = new CdpBrowser(id, "local", CdpConnection.overPipe(linux, process.stdin(), process.stdout(), id), null, this);
    try {
      browser.open(timeout);
    } catch (BrowserException e) {
      throw new BrowserException(e.getMessage() + lastWords(), e);
    }
    return browser;
  }

  /** Its browser still answers on its pipe, in a jail that still runs. */
  boolean alive() {
    return browser != null && browser.alive() && jail.alive();
  }

  /** Its way out from now on: served by {@code served}, stopped when it closes. */
  void serveEgress(AutoCloseable served) {
    this.egress = served;
  }

  @Override
  public void close() {
    closeQuietly(egress);
    jail.close("the browser was closed"); // its processes, profile and workspace go with the jail
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }

  private void drainStderr() {
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = linux.read(process.stderr(), buf, 0, buf.length)) > 0) {
        stderrTail.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        if (stderrTail.length() > STDERR_TAIL) {
          stderrTail.delete(0, stderrTail.length() - STDERR_TAIL);
        }
      }
    } catch (NativeException | RuntimeException e) {
      // the browser is gone
    }
  }

  private String lastWords() {
    String tail = stderrTail.toString().strip();
    return tail.isEmpty() ? "" : " (Chromium said: " + tail.substring(Math.max(0, tail.length() - 500)) + ")";
  }
}
