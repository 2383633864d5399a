package dev.paddock.sandbox.nsjail;

import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupException;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A jail started up to the point of its exec: {@code /bin/sh} has written its pid into the exec's
 * fresh cgroup and waits for one line on its stdin, then execs nsjail with the session's flags;
 * nsjail reads the exec itself (program, arguments, environment, cwd) from a config file written
 * just before that line is sent.
 *
 * <p>Joining a cgroup is the slow step of a start (on cgroup v1 the kernel waits for an RCU grace
 * period, 8-10 ms on the machines measured), so doing it ahead of time takes it off the exec's path.
 * A shell that fails to join exits without ever starting nsjail: nothing runs outside the limits.
 */
final class StandbyJail {
  private static final Logger log = LoggerFactory.getLogger(StandbyJail.class);

  /** What a standby was made for; an exec can use it only if its own key is equal. */
  record Key(String cgroupParent, Path workspace, SandboxPolicy policy) {
    /** The key of an exec: the wall time is left out (it goes in the exec's config file). */
    static Key of(String cgroupParent, Path workspace, SandboxPolicy policy) {
      return new Key(cgroupParent, workspace,
          policy.withLimits(policy.limits().toBuilder().wallTime(Limits.DEFAULTS.wallTime()).build()));
    }
  }

  final Key key;
  final Cgroup cgroup;
  final Process shell;
  final Path execDir;

  StandbyJail(Key key, Cgroup cgroup, Process shell, Path execDir) {
    this.key = key;
    this.cgroup = cgroup;
    this.shell = shell;
    this.execDir = execDir;
  }

  Path logFile() {
    return execDir.resolve("nsjail.log");
  }

  Path execConfig() {
    return execDir.resolve("exec.cfg");
  }

  boolean alive() {
    return shell.isAlive();
  }

  /** Lets the shell exec nsjail; the exec's config file must be written first. */
  void release() throws IOException {
    shell.getOutputStream().write('\n');
    shell.getOutputStream().flush();
  }

  /** Kills the shell and everything in the cgroup, then removes the cgroup and scratch files. */
  void discard(LinuxSyscalls linux) {
    // Cleanup must finish even on an interrupted thread (e.g. at shutdown): clear the flag, restore it after.
    boolean interrupted = Thread.interrupted();
    try {
      shell.destroyForcibly();
      cgroup.killAll(linux); // whatever the shell may have started, and the shell itself
      cgroup.remove();
    } catch (CgroupException e) {
      log.warn("cannot remove standby {}", cgroup, e);
    } finally {
      NsjailLauncher.deleteQuietly(execDir);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
