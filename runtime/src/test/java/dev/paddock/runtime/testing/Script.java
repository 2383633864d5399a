package dev.paddock.runtime.testing;

import dev.paddock.sandbox.SandboxResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * What a fake program does, in Java: runs on its own thread with the program's side of real pipes
 * ({@link FakeJailProcess.Io}) and returns how it ended. A kill (cancel, wall-time limit, a signal,
 * the jail going down) unwinds it from inside any {@code Io} call, like SIGKILL: it cannot be
 * caught by ordinary code, and what the script would have returned is replaced by how the host
 * classifies the kill.
 */
@FunctionalInterface
public interface Script {

  /** Runs the program; returns its ending, for example {@code io.exit(0)} or {@code io.oom()}. */
  SandboxResult run(FakeJailProcess.Io io) throws Exception;

  /** Runs this, ignores how it ended, then runs {@code next}. */
  default Script then(Script next) {
    return io -> {
      run(io);
      return next.run(io);
    };
  }

  /** Exits with {@code code} at once. */
  static Script exit(int code) {
    return io -> io.exit(code);
  }

  /** Writes {@code text} (UTF-8) to stdout, then exits 0. */
  static Script stdout(String text) {
    return io -> {
      io.out(text.getBytes(StandardCharsets.UTF_8));
      return io.exit(0);
    };
  }

  /** Writes {@code text} (UTF-8) to stderr, then exits 0. */
  static Script stderr(String text) {
    return io -> {
      io.err(text.getBytes(StandardCharsets.UTF_8));
      return io.exit(0);
    };
  }

  /** Copies stdin to stdout until stdin ends (like {@code cat}), then exits 0. */
  static Script echoStdin() {
    return io -> {
      byte[] buf = new byte[8192];
      int n;
      while ((n = io.read(buf)) > 0) {
        io.out(java.util.Arrays.copyOf(buf, n));
      }
      return io.exit(0);
    };
  }

  /** Sleeps for {@code time}, then exits 0. */
  static Script sleep(Duration time) {
    return io -> {
      io.sleep(time);
      return io.exit(0);
    };
  }

  /** Runs until something kills it. */
  static Script forever() {
    return io -> {
      io.awaitKill();
      throw new AssertionError("unreachable");
    };
  }

  /** Writes {@code line} to stdout over and over (like {@code yes}) until killed. */
  static Script yes(String line) {
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    return io -> {
      while (true) {
        io.out(bytes);
      }
    };
  }
}
