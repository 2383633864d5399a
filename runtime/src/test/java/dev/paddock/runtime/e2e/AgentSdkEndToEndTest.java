package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.v1.ExecEvent;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The in-jail SDKs as a tool uses them: no install step, the host's mounts and environment only.
 * Each run reports progress, returns an artifact and reads a workspace file the planner uploaded,
 * and the planner sees each as a typed event, in order with the output.
 */
class AgentSdkEndToEndTest extends SharedHostTest {

  @Test
  void pythonToolReportsProgressReturnsAnArtifactAndReadsAWorkspaceFile() throws Exception {
    String session = host.newSession(host.alphaKey);
    upload(session, "input.csv", "a,b\n1,2\n");
    List<ExecEvent> events = new java.util.ArrayList<>();
    host.execs(host.alphaKey).exec(ExecRequest.newBuilder().setSessionId(session).setIpc(true)
        .addAllArgv(List.of("python3", "-c", String.join("\n",
            "import asyncio, paddock_agent",
            "from paddock_agent import AsyncChannel, NotFound, NotAvailable",
            "print('start', flush=True)",
            "paddock_agent.progress('reading input', 0.25)",
            "rows = paddock_agent.read_file('input.csv').decode().splitlines()",
            "print('rows', len(rows), flush=True)",
            "info = paddock_agent.artifact('summary.txt', ('%d rows' % len(rows)).encode(), content_type='text/plain')",
            "try:",
            "    paddock_agent.read_file('missing.csv')",
            "except NotFound as e:",
            "    print('not found', e.metadata.get('path'), flush=True)",
            "try:",
            "    paddock_agent.call_tool('browser.open', {'url': 'https://example.com'})",
            "except NotAvailable as e:",
            "    print('not available', e.reason, flush=True)",
            "async def finish():",
            "    async with AsyncChannel.from_env() as ch:",
            "        await asyncio.gather(ch.kv_put('rows', str(len(rows))), ch.progress('done', 1.0))",
            "        print('kv', (await ch.kv_get('rows')).decode(), flush=True)",
            "asyncio.run(finish())",
            "print('end', info.size_bytes, flush=True)"))).build()).forEachRemaining(events::add);
    TestHost.Outcome run = TestHost.collect(events.iterator());

    assertThat(run.err()).isEmpty();
    assertThat(run.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.out()).isEqualTo(
        "start\nrows 2\nnot found missing.csv\nnot available NOT_AVAILABLE\nkv 2\nend 6\n");
    // Tool events sit where they were sent relative to the output: each after the bytes before it.
    ExecEvent first = events.stream().filter(ExecEvent::hasProgress).findFirst().orElseThrow();
    assertThat(first.getProgress().getMessage()).isEqualTo("reading input");
    assertThat(stdoutBefore(events, first)).isEqualTo("start\n".length());
    ExecEvent artifact = events.stream().filter(ExecEvent::hasArtifact).findFirst().orElseThrow();
    assertThat(artifact.getArtifact().getName()).isEqualTo("summary.txt");
    assertThat(artifact.getArtifact().getSizeBytes()).isEqualTo(6);
    assertThat(stdoutBefore(events, artifact)).isEqualTo("start\nrows 2\n".length());
    assertThat(events.stream().filter(ExecEvent::hasProgress).map(e -> e.getProgress().getMessage()))
        .containsExactly("reading input", "done");
    assertThat(run.result().getIpc().hasViolation()).isFalse();
  }

  @Test
  void javaToolReportsProgressReturnsAnArtifactAndReadsAWorkspaceFile() throws Exception {
    String session = host.newSession(host.alphaKey);
    upload(session, "input.csv", "a,b\n1,2\n3,4\n");
    upload(session, "Tool.java", String.join("\n",
        "import dev.paddock.agent.*;",
        "import java.nio.charset.StandardCharsets;",
        "public class Tool {",
        "  public static void main(String[] args) {",
        "    try (Agent agent = Agent.connect()) {",
        "      System.out.println(\"start\"); System.out.flush();",
        "      agent.progress(\"reading input\", 0.25);",
        "      String[] rows = new String(agent.readFile(\"input.csv\"), StandardCharsets.UTF_8).split(\"\\n\");",
        "      System.out.println(\"rows \" + rows.length); System.out.flush();",
        "      ArtifactInfo info = agent.artifact(\"summary.txt\", (rows.length + \" rows\").getBytes(StandardCharsets.UTF_8), \"text/plain\");",
        "      try { agent.readFile(\"missing.csv\"); } catch (NotFoundException e) { System.out.println(\"not found \" + e.metadata().get(\"path\")); }",
        "      try { agent.callTool(\"browser.open\", com.google.protobuf.Struct.getDefaultInstance()); }",
        "      catch (NotAvailableException e) { System.out.println(\"not available \" + e.reason()); }",
        "      System.out.println(\"end \" + info.sizeBytes());",
        "    }",
        "  }",
        "}", ""));
    List<ExecEvent> events = new java.util.ArrayList<>();
    host.execs(host.alphaKey).exec(ExecRequest.newBuilder().setSessionId(session).setIpc(true)
        .setTimeLimit(com.google.protobuf.util.Durations.fromSeconds(100))
        .addAllArgv(List.of("sh", "-c", "exec java -Xshare:auto -XX:TieredStopAtLevel=1 -cp \"$PADDOCK_AGENT_JAR\" Tool.java")).build())
        .forEachRemaining(events::add);
    TestHost.Outcome run = TestHost.collect(events.iterator());

    assertThat(run.result().getStatus()).as(run.err()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(run.result().getExitCode()).as(run.err()).isZero();
    assertThat(run.out()).isEqualTo("start\nrows 3\nnot found missing.csv\nnot available IPC_ERROR_NOT_AVAILABLE\nend 6\n");
    ExecEvent progress = events.stream().filter(ExecEvent::hasProgress).findFirst().orElseThrow();
    assertThat(progress.getProgress().getFraction()).isEqualTo(0.25);
    assertThat(stdoutBefore(events, progress)).isEqualTo("start\n".length());
    ExecEvent artifact = events.stream().filter(ExecEvent::hasArtifact).findFirst().orElseThrow();
    assertThat(artifact.getArtifact().getContentType()).isEqualTo("text/plain");
    assertThat(stdoutBefore(events, artifact)).isEqualTo("start\nrows 3\n".length());
    assertThat(run.result().getIpc().getRequests()).isEqualTo(5);
  }

  /** Bytes of stdout delivered before {@code event} in the stream. */
  private static long stdoutBefore(List<ExecEvent> events, ExecEvent event) {
    long delivered = 0;
    for (ExecEvent e : events) {
      if (e == event) {
        return delivered;
      }
      if (e.hasOutput() && e.getOutput().getStream() == dev.paddock.ipc.v1.OutputStream.OUTPUT_STREAM_STDOUT) {
        delivered = e.getOutput().getOffset() + e.getOutput().getData().size();
      }
    }
    throw new AssertionError("event not in the stream");
  }

  private void upload(String session, String path, String content) throws Exception {
    byte[] bytes = content.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(host.upload(host.alphaKey, session, path, bytes, bytes.length)).isNull();
  }

}
