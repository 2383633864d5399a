package dev.paddock.runtime.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.runtime.tenant.Principal;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.runtime.testing.FakeJailProcess;
import dev.paddock.runtime.testing.FakeLauncher;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Exec call that starts an exec reads its output from byte 0 however late its reader thread
 * gets going: the output is held for it from the first byte, and the program waits meanwhile.
 */
class PrimaryReaderTest {
  private static final int REPLAY = 16 * 1024;
  private static final Principal ALPHA = new Principal("alpha", "key_test");

  @TempDir Path temp;
  FakeLauncher launcher;
  SessionManager sessions;
  ExecutorService workers = Executors.newCachedThreadPool();
  ExecutorService maker = Executors.newSingleThreadExecutor();

  @BeforeEach
  void start() {
    Clock clock = Clock.systemUTC();
    SessionSettings d = SessionSettings.defaults();
    SessionSettings settings = new SessionSettings(d.defaultIdleTimeout(), d.maxIdleTimeout(), d.defaultMaxLifetime(),
        d.maxLifetime(), d.defaultExecTimeout(), d.maxExecTimeout(), d.maxLimits(), d.closedRetention(),
        d.maxOutputBytes(), d.clientStallTimeout(), REPLAY, d.retainedExecs(), d.workspaceBytes(), d.workspaceInodes());
    launcher = new FakeLauncher(temp);
    JailGate gate = new JailGate(launcher, clock);
    gate.probe();
    sessions = new SessionManager(gate, launcher, maker, id -> Optional.of(new Tenant(id, 10, 10)), settings,
        new ExecRunner(workers, LinuxSyscalls.system(), settings, clock), clock);
  }

  @AfterEach
  void stop() throws Exception {
    sessions.closeAll();
    maker.shutdown();
    launcher.close();
    workers.shutdownNow();
  }

  @Test
  void aLatePrimaryReaderStillGetsEveryByteFromTheFirst() throws Exception {
    int total = 16 * REPLAY;
    CompletableFuture<Void> allWritten = new CompletableFuture<>();
    launcher.program("burst", io -> {
      byte[] data = new byte[total];
      for (int i = 0; i < total; i++) {
        data[i] = (byte) i;
      }
      io.out(data);
      allWritten.complete(null);
      return io.exit(0);
    });
    Session session = sessions.create(ALPHA, SessionSpec.defaults());
    ExecRecord record = sessions.exec(ALPHA, session.id(),
        new ExecSpec(List.of("burst"), Map.of(), "", new byte[0], Duration.ofSeconds(10)), true);
    FakeJailProcess program = launcher.jail(session.id()).lastProcess();

    // Nobody reads yet: the program gets only as far as the pipe and the held output let it.
    for (int i = 0; i < 500 && program.fullPipeWaits() == 0 && !allWritten.isDone(); i++) {
      Thread.sleep(10);
    }
    Thread.sleep(100); // time enough for the host to drain the whole burst, if nothing held it
    assertThat(allWritten).as("the program was held back for the reader").isNotDone();
    assertThat(program.fullPipeWaits()).isPositive();

    ByteArrayOutputStream got = new ByteArrayOutputStream();
    long[] firstOffset = {-1};
    CompletableFuture<SandboxResult> result = new CompletableFuture<>();
    ExecFollower.follow(record, 0, 0, true, new ExecListener() {
      @Override
      public void started(String execId, Instant startTime) {}

      @Override
      public boolean output(Stream stream, byte[] data, long offset) {
        if (firstOffset[0] < 0) {
          firstOffset[0] = offset;
        }
        assertThat(offset).isEqualTo(got.size());
        got.writeBytes(data);
        return true;
      }

      @Override
      public boolean tool(ToolEvent event) {
        return true;
      }

      @Override
      public void finished(ExecRecord.Outcome o) {
        result.complete(o.result());
      }
    }, () -> false);

    assertThat(firstOffset[0]).isZero();
    byte[] bytes = got.toByteArray();
    assertThat(bytes).hasSize(total);
    for (int i = 0; i < total; i++) {
      if (bytes[i] != (byte) i) {
        throw new AssertionError("byte " + i + " differs");
      }
    }
    assertThat(result.join().status()).isEqualTo(SandboxResult.Status.OK);
  }
}
