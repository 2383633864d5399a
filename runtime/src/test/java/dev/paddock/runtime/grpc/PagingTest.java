package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.BadRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecInfo;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecState;
import dev.paddock.ipc.v1.ListExecsRequest;
import dev.paddock.ipc.v1.ListExecsResponse;
import dev.paddock.ipc.v1.ListSessionsRequest;
import dev.paddock.ipc.v1.ListSessionsResponse;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.runtime.testing.Script;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ListSessions and ListExecs: page sizes, tokens that continue where the last page ended, bad tokens. */
class PagingTest {
  @TempDir Path temp;
  InProcessHost host;

  @BeforeEach
  void start() throws Exception {
    host = new InProcessHost(temp);
    host.launcher.program("forever", Script.forever());
  }

  @AfterEach
  void stop() throws Exception {
    host.close();
  }

  @Test
  void listSessionsPagesThroughTheTenantsSessionsOldestFirst() {
    List<String> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
          .putLabels("parity", i % 2 == 0 ? "even" : "odd").build()).getSessionId());
    }
    host.newSession(host.betaKey);

    ListSessionsResponse all = host.sessions(host.alphaKey).listSessions(ListSessionsRequest.getDefaultInstance());
    assertThat(all.getSessionsList()).extracting(s -> s.getSessionId()).containsExactlyElementsOf(created);
    assertThat(all.getNextPageToken()).as("page_size 0 means 100: one page").isEmpty();

    List<Integer> sizes = new ArrayList<>();
    List<String> paged = pages(2, token -> {
      ListSessionsResponse page = host.sessions(host.alphaKey).listSessions(
          ListSessionsRequest.newBuilder().setPageSize(2).setPageToken(token).build());
      sizes.add(page.getSessionsCount());
      return new Page(page.getSessionsList().stream().map(s -> s.getSessionId()).toList(), page.getNextPageToken());
    });
    assertThat(paged).containsExactlyElementsOf(created);
    assertThat(sizes).containsExactly(2, 2, 1);

    // exactly one full page: no token pointing at an empty page
    ListSessionsResponse five = host.sessions(host.alphaKey).listSessions(ListSessionsRequest.newBuilder().setPageSize(5).build());
    assertThat(five.getSessionsCount()).isEqualTo(5);
    assertThat(five.getNextPageToken()).isEmpty();

    // a selector filters; the token is a position, so it carries over to the filtered listing
    ListSessionsResponse even = host.sessions(host.alphaKey).listSessions(ListSessionsRequest.newBuilder()
        .putLabelSelector("parity", "even").setPageSize(1).build());
    assertThat(even.getSessionsList()).extracting(s -> s.getSessionId()).containsExactly(created.get(0));
    ListSessionsResponse evenRest = host.sessions(host.alphaKey).listSessions(ListSessionsRequest.newBuilder()
        .putLabelSelector("parity", "even").setPageToken(even.getNextPageToken()).build());
    assertThat(evenRest.getSessionsList()).extracting(s -> s.getSessionId()).containsExactly(created.get(2), created.get(4));

    // the largest page size on the wire is capped, not an error
    ListSessionsResponse huge = host.sessions(host.alphaKey).listSessions(ListSessionsRequest.newBuilder().setPageSize(-1).build());
    assertThat(huge.getSessionsCount()).isEqualTo(5);
  }

  @Test
  void listSessionsRefusesTokensItDidNotMake() {
    host.newSession(host.alphaKey);
    String execToken = b64("00000000000000000001.000000000/exe_" + "0".repeat(32));
    for (String token : List.of("not a token!", b64("hello"), execToken, b64("00000000000000000001.000000000/ses_XYZ"))) {
      InProcessHost.Failure f = InProcessHost.fail(() -> host.sessions(host.alphaKey)
          .listSessions(ListSessionsRequest.newBuilder().setPageToken(token).build()));
      assertThat(f.code()).as(token).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(f.info().getMetadataMap()).containsEntry("field", "page_token");
      assertThat(f.detail(BadRequest.class).getFieldViolations(0).getField()).isEqualTo("page_token");
    }
  }

  @Test
  void listExecsPagesThroughTheSessionsExecsAndFiltersRunningOnes() {
    String session = host.newSession(host.alphaKey);
    List<String> started = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      if (i == 1 || i == 3) {
        started.add(host.execs(host.alphaKey).startExec(ExecRequest.newBuilder().setSessionId(session)
            .addArgv("forever").build()).getExecId());
      } else {
        started.add(host.exec(host.alphaKey, session, "true").execId());
      }
    }

    ListExecsResponse all = host.execs(host.alphaKey).listExecs(ListExecsRequest.newBuilder().setSessionId(session).build());
    assertThat(all.getExecsList()).extracting(ExecInfo::getExecId).containsExactlyElementsOf(started);
    assertThat(all.getNextPageToken()).isEmpty();
    assertThat(all.getExecsList()).extracting(ExecInfo::getState).containsExactly(ExecState.EXEC_STATE_FINISHED,
        ExecState.EXEC_STATE_RUNNING, ExecState.EXEC_STATE_FINISHED, ExecState.EXEC_STATE_RUNNING, ExecState.EXEC_STATE_FINISHED);
    assertThat(all.getExecs(1).getLiveProcesses()).as("the supervisor's count of the running exec").isEqualTo(1);

    List<Integer> sizes = new ArrayList<>();
    List<String> paged = pages(2, token -> {
      ListExecsResponse page = host.execs(host.alphaKey).listExecs(ListExecsRequest.newBuilder()
          .setSessionId(session).setPageSize(2).setPageToken(token).build());
      sizes.add(page.getExecsCount());
      return new Page(page.getExecsList().stream().map(ExecInfo::getExecId).toList(), page.getNextPageToken());
    });
    assertThat(paged).containsExactlyElementsOf(started);
    assertThat(sizes).containsExactly(2, 2, 1);

    List<String> running = pages(1, token -> {
      ListExecsResponse page = host.execs(host.alphaKey).listExecs(ListExecsRequest.newBuilder()
          .setSessionId(session).setPageSize(1).setRunningOnly(true).setPageToken(token).build());
      return new Page(page.getExecsList().stream().map(ExecInfo::getExecId).toList(), page.getNextPageToken());
    });
    assertThat(running).containsExactly(started.get(1), started.get(3));
  }

  @Test
  void listExecsRefusesTokensItDidNotMake() {
    String session = host.newSession(host.alphaKey);
    host.exec(host.alphaKey, session, "true");
    String sessionToken = b64("00000000000000000001.000000000/ses_" + "0".repeat(32));
    for (String token : List.of("%%%", b64("x"), sessionToken)) {
      InProcessHost.Failure f = InProcessHost.fail(() -> host.execs(host.alphaKey)
          .listExecs(ListExecsRequest.newBuilder().setSessionId(session).setPageToken(token).build()));
      assertThat(f.code()).as(token).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(f.detail(BadRequest.class).getFieldViolations(0).getField()).isEqualTo("page_token");
    }
  }

  private record Page(List<String> ids, String next) {}

  /** Follows next_page_token from the first page to the last; each page holds at most {@code max}. */
  private static List<String> pages(int max, Function<String, Page> fetch) {
    List<String> ids = new ArrayList<>();
    String token = "";
    for (int guard = 0; guard < 100; guard++) {
      Page page = fetch.apply(token);
      assertThat(page.ids()).hasSizeLessThanOrEqualTo(max);
      ids.addAll(page.ids());
      if (page.next().isEmpty()) {
        return ids;
      }
      token = page.next();
    }
    throw new AssertionError("paging does not end");
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aClosedSessionIsListedUntilItsRetentionEndsAndThenNoMore() throws Exception {
    String open = host.newSession(host.alphaKey);
    String closed = host.newSession(host.alphaKey);
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(closed).build());
    assertThat(host.sessions(host.alphaKey).listSessions(ListSessionsRequest.getDefaultInstance()).getSessionsList())
        .as("kept for closedRetention (10 min by default)").extracting(s -> s.getSessionId())
        .containsExactly(open, closed);

    SessionSettings d = SessionSettings.defaults();
    Path forgettingDir = java.nio.file.Files.createDirectories(temp.resolve("forgetting"));
    try (InProcessHost forgetting = new InProcessHost(forgettingDir, new SessionSettings(d.defaultIdleTimeout(),
        d.maxIdleTimeout(), d.defaultMaxLifetime(), d.maxLifetime(), d.defaultExecTimeout(),
        d.maxExecTimeout(), d.maxLimits(), java.time.Duration.ZERO, d.maxOutputBytes(), d.clientStallTimeout(),
        d.replayBytes(), d.retainedExecs(), d.workspaceBytes(), d.workspaceInodes()))) {
      String kept = forgetting.newSession(forgetting.alphaKey);
      String gone = forgetting.newSession(forgetting.alphaKey);
      forgetting.sessions(forgetting.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(gone).build());
      assertThat(forgetting.sessions(forgetting.alphaKey).listSessions(ListSessionsRequest.getDefaultInstance())
          .getSessionsList()).as("no retention: forgotten at once").extracting(s -> s.getSessionId()).containsExactly(kept);
      String another = forgetting.newSession(forgetting.alphaKey);
      assertThat(forgetting.sessions(forgetting.alphaKey).listSessions(ListSessionsRequest.getDefaultInstance())
          .getSessionsList()).extracting(s -> s.getSessionId()).containsExactly(kept, another);
    }
  }
}
