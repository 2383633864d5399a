package dev.paddock.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.paddock.ipc.agent.v1.ArtifactReply;
import dev.paddock.ipc.agent.v1.ArtifactRequest;
import dev.paddock.ipc.agent.v1.CallToolReply;
import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.ipc.agent.v1.KvDeleteReply;
import dev.paddock.ipc.agent.v1.KvGetReply;
import dev.paddock.ipc.agent.v1.KvListReply;
import dev.paddock.ipc.agent.v1.KvPutReply;
import dev.paddock.ipc.agent.v1.ListFilesReply;
import dev.paddock.ipc.agent.v1.PingReply;
import dev.paddock.ipc.agent.v1.ProgressReply;
import dev.paddock.ipc.agent.v1.ReadFileReply;
import dev.paddock.ipc.agent.v1.ReadFileRequest;
import dev.paddock.ipc.agent.v1.WriteFileReply;
import dev.paddock.ipc.agent.v1.WriteFileRequest;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Each method's request and the mapping of its reply. */
class AgentMappingTest {
  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void pingSendsPingAndTakesPong() throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder().setPong(PingReply.getDefaultInstance()))) {
      host.agent().ping();
      host.agent().ping();
      Envelope first = host.take();
      Envelope second = host.take();
      assertThat(first.getBodyCase()).isEqualTo(Envelope.BodyCase.PING);
      assertThat(second.getId()).as("fresh id per request").isNotEqualTo(first.getId());
    }
  }

  @Test
  void progressWithAndWithoutFraction() throws Exception {
    AtomicLong sequence = new AtomicLong(40);
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder()
        .setProgressRecorded(ProgressReply.newBuilder().setSequence(sequence.getAndIncrement())))) {
      assertThat(host.agent().progress("starting")).isEqualTo(40);
      assertThat(host.agent().progress("half", 0.5)).isEqualTo(41);
      Envelope plain = host.take();
      assertThat(plain.getProgress().getMessage()).isEqualTo("starting");
      assertThat(plain.getProgress().hasFraction()).isFalse();
      Envelope half = host.take();
      assertThat(half.getProgress().getMessage()).isEqualTo("half");
      assertThat(half.getProgress().hasFraction()).isTrue();
      assertThat(half.getProgress().getFraction()).isEqualTo(0.5);
    }
  }

  @Test
  void artifactFromBytesAndFromWorkspace() throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder().setArtifactRecorded(ArtifactReply.newBuilder()
        .setSequence(3).setSizeBytes(11).setSha256("ab".repeat(32))))) {
      ArtifactInfo info = host.agent().artifact("report.txt", bytes("hello world"), "text/plain");
      assertThat(info).isEqualTo(new ArtifactInfo(3, 11, "ab".repeat(32)));
      host.agent().artifactFromWorkspace("out.pdf", "out/report.pdf", null);

      ArtifactRequest data = host.take().getArtifact();
      assertThat(data.getName()).isEqualTo("report.txt");
      assertThat(data.getSourceCase()).isEqualTo(ArtifactRequest.SourceCase.DATA);
      assertThat(data.getData().toStringUtf8()).isEqualTo("hello world");
      assertThat(data.getContentType()).isEqualTo("text/plain");
      ArtifactRequest file = host.take().getArtifact();
      assertThat(file.getName()).isEqualTo("out.pdf");
      assertThat(file.getSourceCase()).isEqualTo(ArtifactRequest.SourceCase.WORKSPACE_PATH);
      assertThat(file.getWorkspacePath()).isEqualTo("out/report.pdf");
      assertThat(file.getContentType()).isEmpty();
    }
  }

  /** A file of 10 bytes "0123456789", served at most 4 bytes per reply. */
  private static Envelope.Builder serveChunks(Envelope request) {
    byte[] file = bytes("0123456789");
    ReadFileRequest read = request.getReadFile();
    int offset = (int) Math.min(read.getOffset(), file.length);
    int max = read.getLength() == 0 ? 4 : (int) Math.min(4, read.getLength());
    int end = Math.min(file.length, offset + max);
    return Envelope.newBuilder().setFileData(ReadFileReply.newBuilder()
        .setData(ByteString.copyFrom(file, offset, end - offset))
        .setSizeBytes(file.length)
        .setEof(end == file.length));
  }

  @Test
  void readFileWholeLoopsUntilEof() throws Exception {
    try (FakeHost host = new FakeHost(AgentMappingTest::serveChunks)) {
      assertThat(host.agent().readFile("in/data.txt")).isEqualTo(bytes("0123456789"));
      for (long offset : new long[] {0, 4, 8}) {
        ReadFileRequest request = host.take().getReadFile();
        assertThat(request.getPath()).isEqualTo("in/data.txt");
        assertThat(request.getOffset()).isEqualTo(offset);
        assertThat(request.getLength()).as("0 = as much as one reply holds").isZero();
      }
      assertThat(host.requests()).isEmpty();
    }
  }

  @Test
  void readFileRangeLoopsUntilLengthOrEof() throws Exception {
    try (FakeHost host = new FakeHost(AgentMappingTest::serveChunks)) {
      assertThat(host.agent().readFile("f", 1, 6)).isEqualTo(bytes("123456"));
      assertThat(host.take().getReadFile()).extracting(ReadFileRequest::getOffset, ReadFileRequest::getLength)
          .containsExactly(1L, 6L);
      assertThat(host.take().getReadFile()).extracting(ReadFileRequest::getOffset, ReadFileRequest::getLength)
          .containsExactly(5L, 2L);
      assertThat(host.agent().readFile("f", 7, 100)).isEqualTo(bytes("789"));
      host.take();
      assertThat(host.agent().readFile("f", 3, 0)).isEmpty();
      assertThat(host.requests()).isEmpty();
      assertThatThrownBy(() -> host.agent().readFile("f", -1, 1)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void readFileNoBytesWithoutEofIsAProtocolError() throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder().setFileData(ReadFileReply.newBuilder()))) {
      assertThatThrownBy(() -> host.agent().readFile("f")).isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void writeFileDefaultsAndOptions() throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder()
        .setFileWritten(WriteFileReply.newBuilder().setSizeBytes(r.getWriteFile().getData().size())))) {
      assertThat(host.agent().writeFile("a.txt", bytes("abc"))).isEqualTo(3);
      WriteFileRequest plain = host.take().getWriteFile();
      assertThat(plain.getPath()).isEqualTo("a.txt");
      assertThat(plain.getData().toStringUtf8()).isEqualTo("abc");
      assertThat(plain.getMode()).isEqualTo(0644);
      assertThat(plain.getMakeParents()).isFalse();
      assertThat(plain.getCreateOnly()).isFalse();

      WriteOptions options = WriteOptions.builder().mode(0600).makeParents(true).createOnly(true).build();
      assertThat(host.agent().writeFile("d/b.bin", new byte[5], options)).isEqualTo(5);
      WriteFileRequest custom = host.take().getWriteFile();
      assertThat(custom.getMode()).isEqualTo(0600);
      assertThat(custom.getMakeParents()).isTrue();
      assertThat(custom.getCreateOnly()).isTrue();
    }
    assertThat(WriteOptions.DEFAULTS).isEqualTo(new WriteOptions(0644, false, false));
    assertThatThrownBy(() -> WriteOptions.builder().mode(010000).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void listFilesMapsEntries() throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder().setFileList(ListFilesReply.newBuilder()
        .addEntries(dev.paddock.ipc.agent.v1.FileEntry.newBuilder()
            .setPath("out/a.txt").setSizeBytes(12).setMode(0644))
        .addEntries(dev.paddock.ipc.agent.v1.FileEntry.newBuilder()
            .setPath("out/sub").setDirectory(true).setMode(0755))
        .addEntries(dev.paddock.ipc.agent.v1.FileEntry.newBuilder()
            .setPath("out/link").setSymlink(true).setSizeBytes(5).setMode(0777))))) {
      assertThat(host.agent().listFiles("out")).containsExactly(
          new FileEntry("out/a.txt", false, false, 12, 0644),
          new FileEntry("out/sub", true, false, 0, 0755),
          new FileEntry("out/link", false, true, 5, 0777));
      assertThat(host.take().getListFiles().getPath()).isEqualTo("out");
    }
  }

  @Test
  void keyValueCalls() throws Exception {
    try (FakeHost host = new FakeHost(r -> {
      switch (r.getBodyCase()) {
        case KV_GET:
          return Envelope.newBuilder().setKvValue(r.getKvGet().getKey().equals("set")
              ? KvGetReply.newBuilder().setFound(true).setValue(ByteString.copyFromUtf8("v"))
              : KvGetReply.newBuilder());
        case KV_PUT:
          return Envelope.newBuilder().setKvStored(KvPutReply.getDefaultInstance());
        case KV_DELETE:
          return Envelope.newBuilder().setKvDeleted(KvDeleteReply.newBuilder().setExisted(true));
        case KV_LIST:
          return Envelope.newBuilder().setKvKeys(KvListReply.newBuilder().addKeys("p/a").addKeys("p/b"));
        default:
          throw new AssertionError(r);
      }
    })) {
      Agent agent = host.agent();
      assertThat(agent.kvGet("set")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("v")));
      assertThat(agent.kvGet("unset")).isEmpty();
      agent.kvPut("k", bytes("value"));
      assertThat(agent.kvDelete("k")).isTrue();
      assertThat(agent.kvList("p/")).containsExactly("p/a", "p/b");
      agent.kvList(null);

      assertThat(host.take().getKvGet().getKey()).isEqualTo("set");
      assertThat(host.take().getKvGet().getKey()).isEqualTo("unset");
      Envelope put = host.take();
      assertThat(put.getKvPut().getKey()).isEqualTo("k");
      assertThat(put.getKvPut().getValue().toStringUtf8()).isEqualTo("value");
      assertThat(host.take().getKvDelete().getKey()).isEqualTo("k");
      assertThat(host.take().getKvList().getPrefix()).isEqualTo("p/");
      assertThat(host.take().getKvList().getPrefix()).isEmpty();
    }
  }

  @Test
  void callToolPassesStructs() throws Exception {
    Struct arguments = Struct.newBuilder()
        .putFields("url", Value.newBuilder().setStringValue("https://example.org").build())
        .build();
    Struct result = Struct.newBuilder()
        .putFields("status", Value.newBuilder().setNumberValue(200).build())
        .build();
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder()
        .setToolResult(CallToolReply.newBuilder().setResult(result)))) {
      assertThat(host.agent().callTool("browser.open", arguments)).isEqualTo(result);
      Envelope request = host.take();
      assertThat(request.getCallTool().getName()).isEqualTo("browser.open");
      assertThat(request.getCallTool().getArguments()).isEqualTo(arguments);
      host.agent().callTool("noargs", null);
      assertThat(host.take().getCallTool().hasArguments()).isTrue();
    }
  }

  @Test
  void wireBytesMatchTheGeneratedClasses() {
    // What a hand-written host (the Python one of FdPathTest) relies on.
    assertThat(Envelope.newBuilder().setId(5).setPing(dev.paddock.ipc.agent.v1.PingRequest.getDefaultInstance())
        .build().toByteArray()).containsExactly(0x08, 0x05, 0x52, 0x00);
    assertThat(Envelope.newBuilder().setId(5).setPong(PingReply.getDefaultInstance()).build().toByteArray())
        .containsExactly(0x08, 0x05, 0x92, 0x03, 0x00);
    assertThat(Envelope.newBuilder().setId(6)
        .setProgressRecorded(ProgressReply.newBuilder().setSequence(7)).build().toByteArray())
        .containsExactly(0x08, 0x06, 0x9a, 0x03, 0x02, 0x08, 0x07);
  }

  @Test
  void aBrowserIsDrivenByTypedRequestsForItsOwnId() throws Exception {
    try (FakeHost host = new FakeHost(r -> {
      var b = r.getBrowser();
      var reply = dev.paddock.ipc.agent.v1.BrowserReply.newBuilder().setBrowserId(b.getBrowserId());
      switch (b.getActionCase()) {
        case OPEN -> reply.setBrowserId("brw_1").setProvider("local");
        case NAVIGATE -> reply.setUrl(b.getNavigate().getUrl()).setHttpStatus(200).setTitle("T");
        case SCREENSHOT -> reply.setPng(ByteString.copyFrom(bytes("PNG")));
        case CONTENT -> reply.setContent(b.getContent().getHtml() ? "<html>" : "text");
        case EVALUATE -> reply.setResultJson("42");
        default -> { }
      }
      return Envelope.newBuilder().setBrowserResult(reply);
    })) {
      try (AgentBrowser browser = host.agent().openBrowser(null)) {
        assertThat(browser.id()).isEqualTo("brw_1");
        assertThat(browser.provider()).isEqualTo("local");
        assertThat(host.take().getBrowser().getOpen().getProvider()).isEmpty();
        AgentBrowser.Navigation n = browser.navigate("https://example.test/", java.time.Duration.ofMillis(2500));
        assertThat(n).isEqualTo(new AgentBrowser.Navigation("https://example.test/", 200, "T", ""));
        assertThat(n.ok()).isTrue();
        var sent = host.take().getBrowser();
        assertThat(sent.getBrowserId()).isEqualTo("brw_1");
        assertThat(sent.getNavigate().getTimeoutMs()).isEqualTo(2500);
        assertThat(browser.screenshot()).isEqualTo(bytes("PNG"));
        assertThat(browser.text()).isEqualTo("text");
        assertThat(browser.html()).isEqualTo("<html>");
        assertThat(browser.evaluate("6 * 7", null).resultJson()).isEqualTo("42");
        browser.type("#q", "secret", true, null);
        host.take(); // screenshot
        host.take(); // text
        host.take(); // html
        assertThat(host.take().getBrowser().getEvaluate().getTimeoutMs()).isZero();
        var typed = host.take().getBrowser().getType();
        assertThat(typed.getSelector()).isEqualTo("#q");
        assertThat(typed.getText()).isEqualTo("secret");
        assertThat(typed.getClear()).isTrue();
        assertThatThrownBy(() -> browser.click("#go", java.time.Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
      }
      assertThat(host.take().getBrowser().hasClose()).isTrue();
    }
  }
}
