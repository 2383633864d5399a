package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.AttachExecRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.sandbox.cgroup.CgroupLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A tenant's kernel budgets hold across its sessions: the kernel holds the sum of its jails at
 * the tenant's memory and process totals, while another tenant goes on untouched.
 */
class TenantBudgetEndToEndTest extends SharedHostTest {

  private Path group(String controller, String file) {
    return Path.of("/sys/fs/cgroup", controller, CgroupLayout.forDataDir(host.dataDir).tenant("delta"), file);
  }

  @Test
  void memoryHogsInTwoSessionsMeetTheTenantsTotalNotEachOthersNeighbours() throws Exception {
    // Two sessions of 2 GiB each, inside a tenant budget of 320 MiB: 2 x 200 MiB cannot both be held.
    String hog = "import time\nb = b'x' * (200 << 20)\nprint('held', flush=True)\ntime.sleep(5)";
    List<String[]> execs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      String session = host.newSession(host.deltaKey);
      String exec = host.execs(host.deltaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
          .addAllArgv(List.of("python3", "-c", hog)).setTimeLimit(com.google.protobuf.util.Durations.fromSeconds(20))
          .build()).getExecId();
      execs.add(new String[] {session, exec});
    }
    // Meanwhile another tenant is served as usual.
    String alpha = host.newSession(host.alphaKey);
    assertThat(host.exec(host.alphaKey, alpha, "python3", "-c", "b = b'y' * (300 << 20); print(len(b) >> 20)").out())
        .isEqualTo("300\n");

    int killed = 0;
    for (String[] e : execs) {
      TestHost.Outcome o = TestHost.collect(host.execs(host.deltaKey).attachExec(
          AttachExecRequest.newBuilder().setSessionId(e[0]).setExecId(e[1]).build()));
      if (o.result().getSignal() == 9) {
        killed++;
      } else {
        assertThat(o.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
      }
    }
    assertThat(killed).as("one hog is OOM-killed by the tenant's limit").isGreaterThanOrEqualTo(1);
    long limit = Long.parseLong(Files.readString(group("memory", "memory.limit_in_bytes")).trim());
    long peak = Long.parseLong(Files.readString(group("memory", "memory.max_usage_in_bytes")).trim());
    assertThat(limit).isEqualTo(TestHost.DELTA_MEMORY);
    assertThat(peak).isLessThanOrEqualTo(TestHost.DELTA_MEMORY);
  }

  @Test
  void aForkBombMeetsTheTenantsProcessTotal() throws Exception {
    String session = host.newSession(host.deltaKey);
    TestHost.Outcome bomb = host.exec(host.deltaKey, ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("python3", "-c", String.join("\n",
            "import os, sys",
            "n = 0",
            "try:",
            "    while True:",
            "        if os.fork() == 0: os.execv('/bin/sleep', ['sleep', '3'])",
            "        n += 1",
            "except OSError as e:",
            "    print(n, e.errno, flush=True); sys.exit(3)")))
        .setTimeLimit(com.google.protobuf.util.Durations.fromSeconds(30)).build());
    // The session's own limit is 64; the tenant's 48 (its other jails take a few of them) holds first.
    // (cgroup v1 counts the refusal in the forking task's own group's pids.events, not the tenant's.)
    assertThat(bomb.result().getExitCode()).as(bomb.err()).isEqualTo(3);
    String[] out = bomb.out().trim().split(" ");
    assertThat(out[1]).as("fork failed with EAGAIN").isEqualTo("11");
    assertThat(Integer.parseInt(out[0])).isLessThan(TestHost.DELTA_PROCESSES).isGreaterThan(TestHost.DELTA_PROCESSES - 10);
    assertThat(Files.readString(group("pids", "pids.max")).trim()).isEqualTo(Integer.toString(TestHost.DELTA_PROCESSES));
    // The children sleep 3 s: wait for them, so the tenant's next jails can start.
    for (int i = 0; i < 100 && Integer.parseInt(Files.readString(group("pids", "pids.current")).trim()) > 10; i++) {
      Thread.sleep(100);
    }
  }

  @Test
  void aChangedBudgetReachesTheTenantsRunningJails() throws Exception {
    String session = host.newSession(host.deltaKey);
    Path file = host.dataDir.resolve("tenants.yaml");
    String before = Files.readString(file);
    try {
      Files.writeString(file, before.replace("memoryBytes: " + TestHost.DELTA_MEMORY, "memoryBytes: " + (400L << 20)));
      long deadline = System.nanoTime() + 5_000_000_000L;
      long limit = 0;
      while (System.nanoTime() < deadline) {
        host.sessions(host.deltaKey).getSession(dev.paddock.ipc.v1.GetSessionRequest.newBuilder().setSessionId(session).build());
        limit = Long.parseLong(Files.readString(group("memory", "memory.limit_in_bytes")).trim());
        if (limit == 400L << 20) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(limit).isEqualTo(400L << 20);
    } finally {
      Files.writeString(file, before);
      for (int i = 0; i < 50 && Long.parseLong(Files.readString(group("memory", "memory.limit_in_bytes")).trim())
          != TestHost.DELTA_MEMORY; i++) {
        host.sessions(host.deltaKey).getSession(dev.paddock.ipc.v1.GetSessionRequest.newBuilder().setSessionId(session).build());
        Thread.sleep(100);
      }
    }
  }

  @Test
  void filesTheHostWritesCountAgainstTheTenantsMemoryToo() throws Exception {
    // Pages the host writes into a workspace are charged to the host, not the tenant's cgroup: the
    // host adds up the tenant's workspaces itself before writing (delta's budget: 320 MiB).
    String first = host.newSession(host.deltaKey);
    String second = host.newSession(host.deltaKey);
    assertThat(upload(first, 200 << 20)).isNull();
    io.grpc.StatusRuntimeException refused = upload(second, 200 << 20);
    assertThat(refused).as("the second 200 MiB passes the tenant's 320 MiB").isNotNull();
    TestHost.Failure f = TestHost.failure(refused);
    assertThat(f.code()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
    assertThat(f.info().getReason()).isEqualTo("TENANT_MEMORY_BUDGET_EXCEEDED");
    for (String s : List.of(first, second)) {
      host.sessions(host.deltaKey).closeSession(dev.paddock.ipc.v1.CloseSessionRequest.newBuilder().setSessionId(s).build());
    }
  }

  /** Uploads {@code bytes} zeros as big.bin; null when it worked, the error when it did not. */
  private io.grpc.StatusRuntimeException upload(String session, int bytes) throws Exception {
    return host.upload(host.deltaKey, session, "big.bin", new byte[1 << 20], bytes);
  }
}
