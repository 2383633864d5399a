package dev.paddock.sandbox.jail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.SandboxResult.Status;
import dev.paddock.sandbox.linux.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way an exec can die, in ONE live session jail, three rounds over: each is classified
 * right every time, and the jail survives all of them (an OOM kill, a fork bomb and a seccomp
 * kill end the exec, never the session).
 */
class DeathMatrixTest {
  @TempDir static Path temp;
  static TestJail jails;
  static SessionJail jail;
  static final Limits LIMITS = Limits.DEFAULTS.toBuilder().memory(96 * Limits.MIB).processes(24).build();

  @BeforeAll
  static void setUp() throws Exception {
    jails = new TestJail(temp);
    jail = jails.start(DefaultPolicies.tool().withLimits(LIMITS));
  }

  @AfterAll
  static void tearDown() {
    if (jails != null) {
      jails.close();
    }
  }

  private static SandboxResult run(Duration wall, Duration cpu, String... argv) throws Exception {
    Limits l = LIMITS.toBuilder().wallTime(wall).build();
    return jails.run(jail, TestJail.command(List.of(argv), l, Map.of(), cpu), "").result();
  }

  @Test
  void everyDeathIsClassifiedRightEveryTimeInOneLiveSession() throws Exception {
    Duration minute = Duration.ofSeconds(60);
    for (int round = 0; round < 3; round++) {
      SandboxResult ok = run(minute, Duration.ZERO, "true");
      assertThat(ok.status()).isEqualTo(Status.OK);
      assertThat(ok.exitCode()).isZero();

      SandboxResult exit137 = run(minute, Duration.ZERO, "sh", "-c", "exit 137");
      assertThat(exit137.status()).as("exit 137 by itself is an exit code, not a kill").isEqualTo(Status.OK);
      assertThat(exit137.exitCode()).isEqualTo(137);

      SandboxResult oom = run(minute, Duration.ZERO, "python3", "-c",
          "b = []\nwhile True: b.append(bytearray(8 * 1024 * 1024))");
      assertThat(oom.status()).isEqualTo(Status.OOM);

      SandboxResult pids = run(minute, Duration.ZERO, "python3", "-c",
          "import os, sys, time\n"
              + "kids = []\n"
              + "try:\n"
              + "  while True:\n"
              + "    pid = os.fork()\n"
              + "    if pid == 0: time.sleep(5); os._exit(0)\n"
              + "    kids.append(pid)\n"
              + "except OSError:\n"
              + "  for k in kids: os.kill(k, 9)\n"
              + "  sys.exit(3)");
      assertThat(pids.status()).isEqualTo(Status.PIDS_EXHAUSTED);
      assertThat(pids.exitCode()).isEqualTo(3);

      SandboxResult wall = run(Duration.ofMillis(400), Duration.ZERO, "sleep", "30");
      assertThat(wall.status()).isEqualTo(Status.TIMEOUT);
      assertThat(wall.reason()).contains("wall time");
      assertThat(wall.usage().wallTime()).isBetween(Duration.ofMillis(400), Duration.ofMillis(1400));

      SandboxResult cpu = run(minute, Duration.ofSeconds(1), "sh", "-c", "while :; do :; done");
      assertThat(cpu.status()).isEqualTo(Status.TIMEOUT);
      assertThat(cpu.reason()).contains("CPU time");

      SandboxResult violation = run(minute, Duration.ZERO, "python3", "-c",
          "import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)");
      assertThat(violation.status()).isEqualTo(Status.VIOLATION);
      assertThat(violation.violationSyscall()).isEqualTo("ptrace");

      JailExec sleeper = jail.spawn(TestJail.command(List.of("sleep", "30"), LIMITS, Map.of(), Duration.ZERO));
      sleeper.stdin().close();
      assertThat(sleeper.started().get(10, TimeUnit.SECONDS)).isTrue();
      jails.linux.sendSignal(sleeper.hostPid().orElseThrow(), Signal.SIGKILL); // from outside, as an operator would
      SandboxResult killed = sleeper.result().get(10, TimeUnit.SECONDS);
      sleeper.stdout().close();
      sleeper.stderr().close();
      assertThat(killed.status()).as("SIGKILL from outside is neither OOM nor a timeout").isEqualTo(Status.SIGNALED);
      assertThat(killed.signal()).isEqualTo(9);

      assertThat(jail.alive()).as("the session's jail survives every death").isTrue();
    }
  }
}
