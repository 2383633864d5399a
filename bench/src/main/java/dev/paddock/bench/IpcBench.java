package dev.paddock.bench;

import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.ExecStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The IPC round trip: a no-op request (ping) from Python inside a live session jail to the host's
 * broker and back, timed inside the jail with {@code time.perf_counter_ns()} around each call. Beside
 * it, in the same run: the same loop with hand-written framing and no SDK (what the SDK adds), and
 * the floor: the same frame bounced over a socketpair between a Python process and a C echo peer on
 * the host, no jail, no broker and no protobuf.
 */
final class IpcBench {
  /** Frames one ping and reads its reply; prints the samples (ns) on one line. */
  private static final String TIMING = String.join("\n",
      "import sys, time",
      "warm, n = int(sys.argv[1]), int(sys.argv[2])",
      "def timed(one):",
      "    for _ in range(warm): one()",
      "    out = []",
      "    for _ in range(n):",
      "        t = time.perf_counter_ns(); one(); out.append(time.perf_counter_ns() - t)",
      "    print(' '.join(map(str, out)))",
      "");

  private static final String SDK = TIMING + String.join("\n",
      "from paddock_agent import Channel",
      "ch = Channel.from_env()",
      "timed(ch.ping)");

  private static final String RAW = TIMING + String.join("\n",
      "import os, socket, struct",
      "from paddock.ipc.v1 import ipc_pb2 as p",
      "s = socket.socket(fileno=int(os.environ['PADDOCK_IPC_FD']))",
      "ids = iter(range(1, 1 << 62))",
      "def one():",
      "    b = p.Envelope(id=next(ids), ping=p.PingRequest()).SerializeToString()",
      "    s.sendall(struct.pack('>I', len(b)) + b)",
      "    n, = struct.unpack('>I', s.recv(4, socket.MSG_WAITALL))",
      "    r = p.Envelope(); r.ParseFromString(s.recv(n, socket.MSG_WAITALL))",
      "    assert r.HasField('pong')",
      "timed(one)");

  /**
   * Two host processes: this Python loop (the same as the in-jail hand-framed one, but with no
   * protobuf) and a C peer (bench/src/main/c/ipc-echo.c) that echoes each frame on its fd 3.
   */
  private static final String FLOOR = TIMING + String.join("\n",
      "import os, socket, struct, subprocess",
      "if sys.argv[4] == 'one-cpu': os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # the child inherits it",
      "a, b = socket.socketpair()",
      "echo = subprocess.Popen([sys.argv[3]], pass_fds=[3], preexec_fn=lambda: (os.dup2(b.fileno(), 3)))",
      "b.close()",
      "frame = struct.pack('>I', 4) + bytes([0x08, 0x01, 0x52, 0x00])",
      "def one():",
      "    a.sendall(frame)",
      "    n, = struct.unpack('>I', a.recv(4, socket.MSG_WAITALL))",
      "    a.recv(n, socket.MSG_WAITALL)",
      "timed(one)",
      "a.close(); echo.wait()");

  /**
   * The series, nanoseconds. The floor is taken twice: with both processes on one CPU (no
   * cross-CPU wake-up: the true minimum) and where the scheduler puts them (as the jail's tool and
   * the host's pump thread run). On this VM a cross-CPU wake-up costs tens of microseconds.
   */
  record Result(Stats sdk, Stats raw, Stats floorOneCpu, Stats floor) {}

  private IpcBench() {}

  static Result run(ExecServiceGrpc.ExecServiceBlockingStub execs, String session, int warmup, int iterations,
      java.nio.file.Path echo) throws IOException, InterruptedException {
    Stats sdk = Stats.of(inJail(execs, session, SDK, warmup, iterations));
    Stats raw = Stats.of(inJail(execs, session, RAW, warmup, iterations));
    Stats floorOneCpu = Stats.of(onHost(warmup, iterations, echo, true));
    Stats floor = Stats.of(onHost(warmup, iterations, echo, false));
    return new Result(sdk, raw, floorOneCpu, floor);
  }

  private static long[] inJail(ExecServiceGrpc.ExecServiceBlockingStub execs, String session, String script,
      int warmup, int iterations) {
    Iterator<ExecEvent> events = execs.withDeadlineAfter(300, TimeUnit.SECONDS).exec(ExecRequest.newBuilder()
        .setSessionId(session).setIpc(true)
        .addAllArgv(List.of("python3", "-c", script, Integer.toString(warmup), Integer.toString(iterations))).build());
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    ExecStatus status = null;
    while (events.hasNext()) {
      ExecEvent e = events.next();
      if (e.hasOutput()) {
        (e.getOutput().getStreamValue() == 1 ? out : err).append(e.getOutput().getData().toStringUtf8());
      } else if (e.hasResult()) {
        status = e.getResult().getStatus();
      }
    }
    if (status != ExecStatus.EXEC_STATUS_OK) {
      throw new IllegalStateException("the in-jail IPC probe ended " + status + ": " + err);
    }
    return parse(out.toString(), iterations);
  }

  private static long[] onHost(int warmup, int iterations, java.nio.file.Path echo, boolean oneCpu)
      throws IOException, InterruptedException {
    if (!java.nio.file.Files.isExecutable(echo)) {
      throw new IllegalStateException("the IPC floor's echo peer is not built: " + echo + " (mvn package -pl bench)");
    }
    Process p = new ProcessBuilder("/usr/bin/python3", "-c", FLOOR, Integer.toString(warmup), Integer.toString(iterations),
        echo.toString(), oneCpu ? "one-cpu" : "any-cpu")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("the host socketpair probe failed");
    }
    return parse(out, iterations);
  }

  private static long[] parse(String line, int expected) {
    long[] samples = Arrays.stream(line.trim().split(" ")).mapToLong(Long::parseLong).toArray();
    if (samples.length != expected) {
      throw new IllegalStateException("expected " + expected + " samples, got " + samples.length);
    }
    return samples;
  }

  /** Rows for the report: each against the one-CPU floor. */
  static List<SessionBench.Row> rows(Result r, double targetMs) {
    List<SessionBench.Row> rows = new ArrayList<>();
    rows.add(SessionBench.Row.latency("(i) IPC floor: host socketpair, Python <-> C echo, 1 CPU", r.floorOneCpu(), null,
        "-", null, null));
    rows.add(SessionBench.Row.latency("    same, where the scheduler puts them", r.floor(), r.floorOneCpu(), "", null, null));
    rows.add(SessionBench.Row.latency("(i) IPC round trip: Python SDK ping, jail <-> broker", r.sdk(), r.floorOneCpu(),
        "<= 0.2 ms", targetMs, null));
    rows.add(SessionBench.Row.latency("    same, hand-framed in the jail (no SDK)", r.raw(), r.floorOneCpu(), "", null, null));
    return rows;
  }
}
