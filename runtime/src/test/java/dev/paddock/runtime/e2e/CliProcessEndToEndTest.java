package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.SessionState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The CLI as a user runs it: a separate process, stdin a real pipe, Ctrl-C a real SIGINT,
 * against a real host over TCP.
 */
class CliProcessEndToEndTest extends SharedHostTest {
  record Cli(int exit, String out, String err) {}

  private Process start(String... command) throws IOException {
    List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // In a reactor build the test classpath holds two logback-test.xml (sandbox-native's test
        // classes come as a directory, not the test-jar that leaves it out); logback's warning
        // about that goes to stdout, which is the output under test here.
        "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener",
        "-cp", System.getProperty("java.class.path"), "dev.paddock.runtime.cli.PaddockCli"));
    argv.addAll(List.of(command));
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.environment().put("PADDOCK_SERVER", "127.0.0.1:" + host.port());
    pb.environment().put("PADDOCK_API_KEY", host.alphaKey);
    return pb.start();
  }

  private Cli run(String stdin, String... command) throws Exception {
    Process p = start(command);
    try (var in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
    var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Cli(p.exitValue(), out.get(), err.get());
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void pipedStdinReachesTheProgram() throws Exception {
    Cli cat = run("one\ntwo\n", "exec", "--", "sh", "-c", "cat; echo done");
    assertThat(cat.exit()).as(cat.err()).isZero();
    assertThat(cat.out()).isEqualTo("one\ntwo\ndone\n");
  }

  @Test
  void detachPsAttachAndKill() throws Exception {
    String session = host.newSession(host.alphaKey);
    Cli detached = run("", "exec", "--session", session, "--detach", "--", "sh", "-c", "echo hello; sleep 300");
    assertThat(detached.exit()).as(detached.err()).isZero();
    String exec = detached.out().trim();
    assertThat(exec).matches("exe_[0-9a-f]{32}");
    Cli ps = run("", "ps", "--session", session, "--json");
    assertThat(ps.out()).contains(exec).contains("EXEC_STATE_RUNNING");
    Cli kill = run("", "kill", "--session", session, exec, "--signal", "TERM");
    assertThat(kill.exit()).as(kill.err()).isZero();
    Cli attach = run("", "attach", "--session", session, exec);
    assertThat(attach.out()).isEqualTo("hello\n");
    assertThat(attach.exit()).isEqualTo(128 + 15);
  }

  @Test
  void ctrlCSignalsTheExecAndClosesTheSessionItMade() throws Exception {
    Process p = start("exec", "--json", "-i", "--", "sh", "-c", "echo started; sleep 300");
    StringBuilder lines = new StringBuilder();
    var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    for (String line; (line = reader.readLine()) != null; ) {
      lines.append(line).append('\n');
      if (line.contains("started")) {
        break;
      }
    }
    assertThat(lines.toString()).contains("execId");
    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(130);
    // the session the command created is closed
    var sessions = host.sessions(host.alphaKey).listSessions(
        dev.paddock.ipc.v1.ListSessionsRequest.getDefaultInstance()).getSessionsList();
    assertThat(sessions).noneMatch(s -> s.getState() == SessionState.SESSION_STATE_ACTIVE
        && host.execs(host.alphaKey).listExecs(dev.paddock.ipc.v1.ListExecsRequest.newBuilder()
            .setSessionId(s.getSessionId()).setRunningOnly(true).build()).getExecsList().stream()
            .anyMatch(e -> e.getArgvList().contains("echo started; sleep 300")));
  }

  @Test
  void filesPutGetListAndRemove() throws Exception {
    String session = host.newSession(host.alphaKey);
    Cli put = run("hello from stdin\n", "files", "put", "--session", session, "-", "dir/note.txt", "--parents");
    assertThat(put.exit()).as(put.err()).isZero();
    assertThat(host.exec(host.alphaKey, session, "cat", "dir/note.txt").out()).isEqualTo("hello from stdin\n");
    Cli get = run("", "files", "get", "--session", session, "dir/note.txt", "-");
    assertThat(get.out()).isEqualTo("hello from stdin\n");
    Cli ls = run("", "files", "ls", "--session", session, "-r", "--json");
    assertThat(ls.out()).contains("dir/note.txt");
    Cli rm = run("", "files", "rm", "--session", session, "dir", "-r");
    assertThat(rm.exit()).as(rm.err()).isZero();
    Cli missing = run("", "files", "get", "--session", session, "dir/note.txt", "-");
    assertThat(missing.exit()).isEqualTo(120);
    assertThat(missing.err()).contains("FILE_NOT_FOUND");
  }

  @Test
  void ipcProgressAndArtifactsShowAndDownload() throws Exception {
    String session = host.newSession(host.alphaKey);
    String tool = "import paddock_agent as a; print('working', flush=True); a.progress('half way', 0.5);"
        + " a.artifact('result.json', b'{\\\"ok\\\": true}', content_type='application/json')";
    Cli human = run("", "exec", "--session", session, "--ipc", "--no-stdin", "--", "python3", "-c", tool);
    assertThat(human.exit()).as(human.err()).isZero();
    assertThat(human.out()).isEqualTo("working\n");
    assertThat(human.err()).contains("paddock: progress 50%: half way")
        .contains("paddock: artifact result.json (12 bytes, application/json, sha256 ");
    String exec = human.err().replaceAll("(?s).*paddock artifact --session SESSION (exe_[0-9a-f]+) result.json.*", "$1");
    Cli download = run("", "artifact", "--session", session, exec, "result.json");
    assertThat(download.exit()).as(download.err()).isZero();
    assertThat(download.out()).isEqualTo("{\"ok\": true}");

    Cli json = run("", "exec", "--session", session, "--ipc", "--json", "--", "python3", "-c", tool);
    assertThat(json.out()).contains("\"progress\"").contains("\"message\":\"half way\"").contains("\"artifact\"")
        .contains("\"ipc\"");
  }
}
