package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.runtime.e2e.CliCapture.Cli;
import org.junit.jupiter.api.Test;

/** {@code paddock exec} against a real host: streams, exit codes, and the documented special codes. */
class CliEndToEndTest extends SharedHostTest {
  private Cli run(String key, String... command) {
    String[] args = new String[command.length + 7];
    args[0] = "exec";
    args[1] = "--server";
    args[2] = "127.0.0.1:" + host.port();
    args[3] = "--api-key";
    args[4] = key;
    args[5] = "--time-limit=1500ms";
    args[6] = "--no-stdin"; // this JVM's stdin is surefire's command pipe, which must not be forwarded
    System.arraycopy(command, 0, args, 7, command.length);
    return CliCapture.run(args);
  }

  @Test
  void printsTheOutputAndExitsWithTheCommandsCode() {
    Cli ok = run(host.alphaKey, "--", "python3", "-c", "print(6*7)");
    assertThat(ok.exit()).isZero();
    assertThat(ok.out()).isEqualTo("42\n");
    Cli three = run(host.alphaKey, "--", "sh", "-c", "echo oops >&2; exit 3");
    assertThat(three.exit()).isEqualTo(3);
    assertThat(three.err()).contains("oops");
  }

  @Test
  void eachNonOkOutcomeHasItsOwnCode() {
    assertThat(run(host.alphaKey, "--", "sleep", "10").exit()).isEqualTo(124);
    assertThat(run(host.alphaKey, "--", "python3", "-c", "import ctypes; ctypes.CDLL(None).ptrace(0,0,0,0)").exit()).isEqualTo(122);
    assertThat(run(host.alphaKey, "--", "no-such-program").exit()).isEqualTo(121);
    Cli badKey = run("pdk_wrong", "--", "true");
    assertThat(badKey.exit()).isEqualTo(120);
    assertThat(badKey.err()).startsWith("error: UNAUTHENTICATED_API_KEY: ").contains("(request req_");
  }

  @Test
  void healthSaysServingWithoutAKeyAndFailsForAHostThatIsNotThere() throws Exception {
    Cli serving = CliCapture.run("health", "--server", "127.0.0.1:" + host.port());
    assertThat(serving.exit()).as(serving.err()).isZero();
    assertThat(serving.out()).isEqualTo("SERVING\n");
    int closed = dev.paddock.sandbox.LoopbackPorts.free();
    Cli gone = CliCapture.run("health", "--server", "127.0.0.1:" + closed, "--timeout=2s", "--json");
    assertThat(gone.exit()).isEqualTo(1);
    assertThat(gone.err()).startsWith("error: UNAVAILABLE: ");
    assertThat(gone.out()).startsWith("{\"error\":{");
  }
}
