package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.GetSessionRequest;
import dev.paddock.ipc.v1.ResourceLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Containment through the whole host: what a tool can reach, and how each limit ends it. */
class ContainmentEndToEndTest extends SharedHostTest {
  @Test
  void aToolCannotReachTheHostsOwnGrpcPort() {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome run = host.exec(host.alphaKey, session, "python3", "-c",
        "import socket\n"
            + "for addr in ['127.0.0.1', '::1']:\n"
            + "  try:\n"
            + "    socket.create_connection((addr, " + host.port() + "), timeout=2); print(addr, 'CONNECTED')\n"
            + "  except OSError as e: print(addr, 'failed', e.errno)\n"
            + "try:\n"
            + "  socket.create_connection(('10.0.2.2', 80), timeout=1); print('ROUTE')\n"
            + "except OSError as e: print('no route', e.errno)\n");
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.out()).doesNotContain("CONNECTED").doesNotContain("ROUTE").contains("127.0.0.1 failed");
  }

  @Test
  void theDataDirectoryAndOtherWorkspacesAreInvisible() {
    String mine = host.newSession(host.alphaKey);
    String theirs = host.newSession(host.betaKey);
    host.exec(host.betaKey, theirs, "sh", "-c", "echo beta-secret > secret.txt");
    TestHost.Outcome run = host.exec(host.alphaKey, mine, "sh", "-c",
        "ls " + host.dataDir + " 2>&1; cat " + host.dataDir.resolve("tenants.yaml") + " 2>&1;"
            + " cat " + host.dataDir.resolve("workspaces").resolve(theirs).resolve("secret.txt") + " 2>&1; ls / ");
    assertThat(run.out()).doesNotContain("beta-secret").doesNotContain("sha256").contains("No such file");
  }

  @Test
  void eachLimitEndsWithItsOwnTypedStatus() {
    String session = host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
        .setLimits(ResourceLimits.newBuilder().setMemoryBytes(64L << 20).setMaxProcesses(16)).build()).getSessionId();

    TestHost.Outcome violation = host.exec(host.alphaKey, session, "python3", "-c",
        "import ctypes; ctypes.CDLL(None).ptrace(0, 0, 0, 0)");
    assertThat(violation.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_VIOLATION);
    assertThat(violation.result().getViolationSyscall()).isEqualTo("ptrace");

    TestHost.Outcome oom = host.exec(host.alphaKey, session, "python3", "-c",
        "b = []\nwhile True: b.append(bytearray(8 << 20))");
    assertThat(oom.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OOM);

    long started = System.nanoTime();
    TestHost.Outcome timeout = host.exec(host.alphaKey, ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sh", "-c", "sleep 30 & sleep 30"))
        .setTimeLimit(Duration.newBuilder().setNanos(800_000_000)).build());
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertThat(timeout.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
    assertThat(tookMs).isBetween(800L, 1800L);
  }

  @Test
  void aForkBombIsHeldWhileTheHostKeepsAnswering() throws Exception {
    String bombSession = host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
        .setLimits(ResourceLimits.newBuilder().setMaxProcesses(32)).build()).getSessionId();
    String marker = "bomb-" + System.nanoTime(); // tells this bomb's processes from any other's
    CompletableFuture<TestHost.Outcome> bomb = CompletableFuture.supplyAsync(() -> host.exec(host.alphaKey,
        ExecRequest.newBuilder().setSessionId(bombSession)
            .addAllArgv(List.of("python3", "-c",
                "import os, time  # " + marker + "\n"
                    + "while True:\n"
                    + "  try: os.fork()\n"
                    + "  except OSError: time.sleep(0.005)\n"))
            .setTimeLimit(Duration.newBuilder().setSeconds(4)).build()));
    Thread.sleep(500);
    // while it rages, it stays within its limit (+1: the jail's supervisor) and others are served
    Path pids = Path.of("/sys/fs/cgroup/pids").resolve(
        dev.paddock.sandbox.cgroup.CgroupLayout.forDataDir(host.dataDir).session("alpha", bombSession));
    String other = host.newSession(host.betaKey);
    for (int i = 0; i < 3; i++) {
      // the session's one jail: the tenant's processes plus nsjail and paddock-init
      long busiest = Long.parseLong(java.nio.file.Files.readString(pids.resolve("pids.current")).trim());
      assertThat(busiest).as("tasks in the session's cgroup").isLessThanOrEqualTo(34L);
      assertThat(busiest).as("tasks in the bomb's cgroup").isGreaterThan(2L);
      long t0 = System.nanoTime();
      assertThat(host.exec(host.betaKey, other, "echo", "alive").out()).isEqualTo("alive\n");
      assertThat(host.sessions(host.alphaKey).getSession(GetSessionRequest.newBuilder().setSessionId(bombSession).build())
          .getSessionId()).isEqualTo(bombSession);
      assertThat((System.nanoTime() - t0) / 1_000_000).as("ms for an echo during the bomb").isLessThan(2000);
    }
    TestHost.Outcome result = bomb.get();
    assertThat(result.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_TIMEOUT);
    assertThat(ExecEndToEndTest.processesWith(marker)).isZero();
  }
}
