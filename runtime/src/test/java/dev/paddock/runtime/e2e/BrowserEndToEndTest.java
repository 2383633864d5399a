package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.paddock.audit.log.Segments;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.BrowserServiceGrpc;
import dev.paddock.ipc.v1.BrowserState;
import dev.paddock.ipc.v1.ClickRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.ContentFormat;
import dev.paddock.ipc.v1.EvaluateRequest;
import dev.paddock.ipc.v1.GetContentRequest;
import dev.paddock.ipc.v1.TypeRequest;
import dev.paddock.ipc.v1.CreateBrowserRequest;
import dev.paddock.ipc.v1.GetBrowserRequest;
import dev.paddock.ipc.v1.ListBrowsersRequest;
import dev.paddock.ipc.v1.NavigateRequest;
import dev.paddock.ipc.v1.ScreenshotRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** BrowserService over a real host: a real Chromium in a jail of its own, per session, closed with it. */
class BrowserEndToEndTest extends SharedHostTest {
  /** One blank browser kept started ahead: these tests take warm browsers and cold ones. */
  @Override
  dev.paddock.runtime.config.HostConfig configure(dev.paddock.runtime.config.HostConfig config) {
    return config.withBrowsers(config.browsers().withWarmPool(1));
  }

  private BrowserServiceGrpc.BrowserServiceBlockingStub browsers(String key) {
    return BrowserServiceGrpc.newBlockingStub(host.channel(key, null)).withDeadlineAfter(90, TimeUnit.SECONDS);
  }

  @Test
  void aBrowsersNavigationsGoThroughItsSessionsAllowListAndARefusalIsAudited() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      String session = host.newSession(host.etaKey);
      String id = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getBrowserId();
      var ok = browsers(host.etaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setUrl("http://files.paddock.test:" + origin.port() + "/page").build());
      assertThat(ok.getErrorText()).isEmpty();
      assertThat(ok.getTitle()).isEqualTo("Origin page");
      assertThat(ok.getHttpStatus()).isEqualTo(200);
      assertThat(origin.paths).contains("/page");

      // The proxy answers the browser itself (its 403 page is what the browser shows); the origin never sees it.
      var refused = browsers(host.etaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setUrl("http://blocked.paddock.test:" + origin.port() + "/blocked-page").build());
      assertThat(refused.getHttpStatus()).isEqualTo(403);
      assertThat(origin.paths).doesNotContain("/blocked-page");
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_EGRESS_DENIED
          && r.getTarget().equals(session)).anySatisfy(r -> {
            assertThat(r.getAttributesMap()).containsEntry("host", "blocked.paddock.test");
            assertThat(r.getOutcome()).isEqualTo("DENY_LISTED");
          });

      // A subresource is held to the same lists: the page loads, its image on the denied host does not, and is recorded.
      long deniedBefore = deniedRecords(session, "blocked.paddock.test");
      var withImage = browsers(host.etaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setUrl("http://files.paddock.test:" + origin.port() + "/subresource").build());
      assertThat(withImage.getTitle()).isEqualTo("With image");
      assertThat(origin.paths).contains("/subresource").doesNotContain("/pixel.png");
      assertThat(deniedRecords(session, "blocked.paddock.test")).isGreaterThan(deniedBefore);
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  private long deniedRecords(String session, String host) throws Exception {
    return Segments.readAll(this.host.dataDir.resolve("audit")).stream().filter(r -> r.getAction()
        == AuditAction.AUDIT_ACTION_EGRESS_DENIED && r.getTarget().equals(session)
        && host.equals(r.getAttributesMap().get("host"))).count();
  }

  @Test
  void cookiesAndStorageOfOneTaskAreAbsentForTheNext() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      String base = "http://files.paddock.test:" + origin.port();
      String taskA = host.newSession(host.etaKey);
      String a = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(taskA).build()).getBrowserId();
      assertThat(title(taskA, a, base + "/set-state")).isEqualTo("set");
      assertThat(title(taskA, a, base + "/show-state")).isEqualTo("cookie=task=A storage=A");

      // Another task of the same tenant, at the same origin, at the same time: nothing of A's.
      String taskB = host.newSession(host.etaKey);
      String b = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(taskB).build()).getBrowserId();
      assertThat(title(taskB, b, base + "/show-state")).isEqualTo("cookie= storage=");
      // Nor a second browser of task A itself: each browser starts from an empty profile.
      String a2 = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(taskA).build()).getBrowserId();
      assertThat(title(taskA, a2, base + "/show-state")).isEqualTo("cookie= storage=");
      for (String s : new String[] {taskA, taskB}) {
        host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(s).build());
      }
    }
  }

  @Test
  void openBrowsersAreTheTenantsBudget() throws Exception {
    String session = host.newSession(host.gammaKey);
    try {
      String first = browsers(host.gammaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getBrowserId();
      StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(host.gammaKey)
          .createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build()));
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(TestHost.failure(refused).info().getReason()).isEqualTo("BROWSER_LIMIT_EXCEEDED");
      var usage = dev.paddock.ipc.v1.TenantServiceGrpc.newBlockingStub(host.channel(host.gammaKey, null))
          .getTenantUsage(dev.paddock.ipc.v1.GetTenantUsageRequest.getDefaultInstance());
      assertThat(usage.getBudgetsList()).filteredOn(b -> b.getName().equals("open_browsers")).singleElement()
          .satisfies(b -> {
            assertThat(b.getLimit()).isEqualTo(1);
            assertThat(b.getUsed()).isEqualTo(1);
          });
      browsers(host.gammaKey).closeBrowser(dev.paddock.ipc.v1.CloseBrowserRequest.newBuilder().setSessionId(session)
          .setBrowserId(first).build());
      assertThat(browsers(host.gammaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getState()).isEqualTo(BrowserState.BROWSER_STATE_ACTIVE);
    } finally {
      host.sessions(host.gammaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  private String title(String session, String browser, String url) {
    var n = browsers(host.etaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(browser).setUrl(url)
        .build());
    assertThat(n.getErrorText()).isEmpty();
    assertThat(n.getHttpStatus()).as("status of %s", url).isEqualTo(200);
    return n.getTitle();
  }

  @Test
  void aSessionsBrowserTakesScreenshotsAndClosesWithItsSession() throws Exception {
    String session = host.newSession(host.alphaKey);
    var created = browsers(host.alphaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
    assertThat(created.getState()).isEqualTo(BrowserState.BROWSER_STATE_ACTIVE);
    assertThat(created.getProvider()).isEqualTo("local");
    assertThat(created.getBrowserId()).startsWith("brw_");
    String id = created.getBrowserId();

    // Tenant alpha may reach nothing: the proxy refuses the page (and records it); that is an answer, not an error.
    browsers(host.alphaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id)
        .setUrl("http://files.paddock.test/").build());
    assertThat(Segments.readAll(host.dataDir.resolve("audit"))).anySatisfy(r -> {
      assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_EGRESS_DENIED);
      assertThat(r.getTarget()).isEqualTo(session);
      assertThat(r.getOutcome()).isEqualTo("NOT_ALLOWED");
    });
    var shot = browsers(host.alphaKey).screenshot(ScreenshotRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
    assertThat(shot.getImage().toByteArray()).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    assertThat(shot.getWidth()).isEqualTo(1280);
    assertThat(browsers(host.alphaKey).listBrowsers(ListBrowsersRequest.newBuilder().setSessionId(session).build())
        .getBrowsersList()).extracting(b -> b.getBrowserId()).containsExactly(id);

    // Another tenant sees no such browser; a file: URL is refused.
    StatusRuntimeException foreign = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(host.betaKey)
        .getBrowser(GetBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id).build()));
    assertThat(foreign.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    StatusRuntimeException file = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(host.alphaKey)
        .navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id).setUrl("file:///etc/passwd").build()));
    assertThat(file.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

    // The same from the command line.
    String server = "127.0.0.1:" + host.port();
    CliCapture.Cli created2 = CliCapture.run("browser", "create", "--server", server, "--api-key", host.alphaKey, "--session", session);
    assertThat(created2.exit()).as(created2.err()).isZero();
    java.nio.file.Path png = java.nio.file.Files.createTempFile("browser", ".png");
    CliCapture.Cli shotCli = CliCapture.run("browser", "screenshot", "--server", server, "--api-key", host.alphaKey,
        "--session", session, "-o", png.toString(), created2.out().strip());
    assertThat(shotCli.exit()).as(shotCli.err()).isZero();
    assertThat(java.nio.file.Files.readAllBytes(png)).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    java.nio.file.Files.delete(png);
    assertThat(CliCapture.run("browser", "list", "--server", server, "--api-key", host.alphaKey, "--session", session).out())
        .contains(id).contains(created2.out().strip());

    // The session's end is the browser's.
    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    var after = browsers(host.alphaKey).getBrowser(GetBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
    assertThat(after.getState()).isEqualTo(BrowserState.BROWSER_STATE_CLOSED);
    assertThat(after.hasCloseTime()).isTrue();

    assertThat(Segments.readAll(host.dataDir.resolve("audit"))).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_BROWSER_CREATED
        && r.getTenant().equals("alpha")).isNotEmpty();
  }

  @Test
  void pageToolsTypeClickEvaluateAndReadThePage() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      String session = host.newSession(host.etaKey);
      var b = browsers(host.etaKey);
      String id = b.createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build()).getBrowserId();
      assertThat(title(session, id, "http://files.paddock.test:" + origin.port() + "/form")).isEqualTo("Form");

      b.type(TypeRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#name").setText("Ada").setClear(true)
          .build());
      b.click(ClickRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#go").build());
      assertThat(evaluate(session, id, "document.title").getResultJson()).isEqualTo("\"hello Ada x1\"");
      // Without clear, typing appends; a double click is two clicks.
      b.type(TypeRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#name").setText("!").build());
      b.click(ClickRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#go").setClickCount(2).build());
      assertThat(evaluate(session, id, "document.title").getResultJson()).isEqualTo("\"hello Ada! x3\"");
      // An element that appears later is waited for.
      b.click(ClickRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#later").build());
      assertThat(evaluate(session, id, "document.title").getResultJson()).isEqualTo("\"late\"");

      // A disabled button never becomes clickable; a selector that is not CSS is refused at once.
      StatusRuntimeException disabled = catchThrowableOfType(StatusRuntimeException.class, () -> b.click(ClickRequest
          .newBuilder().setSessionId(session).setBrowserId(id).setSelector("#off").setTimeout(millis(500)).build()));
      assertThat(disabled.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(TestHost.failure(disabled).info().getReason()).isEqualTo("ELEMENT_NOT_FOUND");
      StatusRuntimeException bad = catchThrowableOfType(StatusRuntimeException.class, () -> b.click(ClickRequest
          .newBuilder().setSessionId(session).setBrowserId(id).setSelector("##nope").build()));
      assertThat(bad.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

      // Scripts: a promise is awaited; a throw is an answer; a script that never yields is stopped.
      assertThat(evaluate(session, id, "new Promise(r => setTimeout(() => r({a: [1, 'x']}), 50))").getResultJson())
          .isEqualTo("{\"a\":[1,\"x\"]}");
      assertThat(evaluate(session, id, "undefined").getResultJson()).isEmpty();
      var thrown = evaluate(session, id, "throw new Error('boom')");
      assertThat(thrown.getResultJson()).isEmpty();
      assertThat(thrown.getException()).contains("boom");
      StatusRuntimeException spin = catchThrowableOfType(StatusRuntimeException.class, () -> b.evaluate(EvaluateRequest
          .newBuilder().setSessionId(session).setBrowserId(id).setExpression("for (;;) {}").setTimeout(millis(1000)).build()));
      assertThat(spin.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(TestHost.failure(spin).info().getReason()).isEqualTo("BROWSER_TIMEOUT");
      assertThat(evaluate(session, id, "1 + 1").getResultJson()).isEqualTo("2");

      var text = b.getContent(GetContentRequest.newBuilder().setSessionId(session).setBrowserId(id).build());
      assertThat(text.getFormat()).isEqualTo(ContentFormat.CONTENT_FORMAT_TEXT);
      assertThat(text.getContent()).contains("Go").contains("later").doesNotContain("<button");
      var html = b.getContent(GetContentRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setFormat(ContentFormat.CONTENT_FORMAT_HTML).build());
      assertThat(html.getContent()).contains("<a id=\"later\"").contains("<input id=\"name\"");
      assertThat(html.getUrl()).endsWith("/form");

      // Every action is in the audit log, what was typed is not (nor a digest of it alone).
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).filteredOn(r -> r.getAction()
          == AuditAction.AUDIT_ACTION_BROWSER_ACTION && r.getTarget().equals(session))
          .extracting(r -> r.getAttributesMap().get("method")).contains("Type", "Click", "Evaluate", "GetContent");
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  @Test
  void scriptsAreOnlyForTenantsTheOperatorLetsRunThem() throws Exception {
    String session = host.newSession(host.alphaKey);
    try {
      String id = browsers(host.alphaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getBrowserId();
      StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> browsers(host.alphaKey)
          .evaluate(EvaluateRequest.newBuilder().setSessionId(session).setBrowserId(id).setExpression("1").build()));
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(TestHost.failure(refused).info().getReason()).isEqualTo("PERMISSION_DENIED_POLICY");
      assertThat(TestHost.failure(refused).info().getMetadataMap()).containsEntry("operation", "evaluate");
    } finally {
      host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  @Test
  void aBrowserThatDiesIsReplacedUnderItsIdAndItsDevToolsUrlReconnects() throws Exception {
    java.nio.file.Path playwright = dev.paddock.sandbox.JailRequirement.projectRoot()
        .resolve(".paddock/tools/playwright/node_modules/playwright-core");
    try (OriginServer origin = new OriginServer()) {
      String base = "http://files.paddock.test:" + origin.port();
      String session = host.newSession(host.etaKey);
      var created = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
      String id = created.getBrowserId();
      assertThat(title(session, id, base + "/set-state")).isEqualTo("set");
      // A stock client is attached when it dies.
      java.util.concurrent.CompletableFuture<String> closedWith = new java.util.concurrent.CompletableFuture<>();
      java.net.http.HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(java.net.URI.create(created.getDevtoolsWsUrl()),
          new java.net.http.WebSocket.Listener() {
            @Override
            public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int code, String reason) {
              closedWith.complete(code + " " + reason);
              return null;
            }
          }).get(10, TimeUnit.SECONDS);

      // Chromium crashes (here: killed from outside its jail; the jail's cgroup is named by the browser's id).
      List<ProcessHandle> chromium = ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("")
          .contains("chromium") && cgroup(p).contains(id)).toList();
      assertThat(chromium).isNotEmpty();
      chromium.forEach(ProcessHandle::destroyForcibly);

      assertThat(closedWith.get(10, TimeUnit.SECONDS)).startsWith("4001 BROWSER_CLOSED");
      dev.paddock.ipc.v1.Browser replaced = null;
      for (int i = 0; i < 300 && (replaced == null || replaced.getReplacements() == 0); i++) {
        Thread.sleep(100);
        replaced = browsers(host.etaKey).getBrowser(GetBrowserRequest.newBuilder().setSessionId(session).setBrowserId(id)
            .build());
      }
      assertThat(replaced.getReplacements()).isEqualTo(1);
      assertThat(replaced.getState()).isEqualTo(BrowserState.BROWSER_STATE_ACTIVE);
      // Fresh: the lost browser's cookies and storage went with it. The jail is gone too.
      assertThat(title(session, id, base + "/show-state")).isEqualTo("cookie= storage=");
      assertThat(ProcessHandle.current().descendants().filter(p -> cgroup(p).contains(id))).isEmpty();
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).anySatisfy(r -> {
        assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_BROWSER_CREATED);
        assertThat(r.getActor()).isEqualTo("host");
        assertThat(r.getAttributesMap()).containsEntry("browserId", id);
        assertThat(r.getAttributesMap().get("reason")).startsWith("replaced a lost browser");
      });
      // The same DevTools URL reaches the replacement.
      dev.paddock.sandbox.ToolRun again = node(String.join("\n",
          "const { chromium } = require(process.argv[1]);",
          "(async () => {",
          "  const browser = await chromium.connectOverCDP(process.argv[2], { timeout: 20000 });",
          "  const page = browser.contexts()[0].pages()[0];",
          "  console.log('status', (await page.goto(process.argv[3])).status());",
          "  await browser.close();",
          "})().catch(e => { console.error('FAILED', e.message); process.exit(3); });"),
          playwright.toString(), created.getDevtoolsUrl(), base + "/page");
      assertThat(again.exit()).as(again.output()).isZero();
      assertThat(again.output()).contains("status 200");
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  private static String cgroup(ProcessHandle p) {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + p.pid() + "/cgroup"));
    } catch (java.io.IOException e) {
      return ""; // gone
    }
  }

  private dev.paddock.ipc.v1.EvaluateResponse evaluate(String session, String browser, String expression) {
    return browsers(host.etaKey).evaluate(EvaluateRequest.newBuilder().setSessionId(session).setBrowserId(browser)
        .setExpression(expression).build());
  }

  private static com.google.protobuf.Duration millis(long ms) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(ms / 1000).setNanos((int) (ms % 1000) * 1_000_000).build();
  }

  @Test
  void pythonInsideAJailBrowsesThroughTheSdkWithNoNetworkOfItsOwn() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      String session = host.newSession(host.etaKey);
      String base = "http://files.paddock.test:" + origin.port();
      String script = String.join("\n",
          "import paddock_agent, socket",
          "with paddock_agent.open_browser() as b:",
          "    n = b.navigate('" + base + "/form')",
          "    print('page', n.http_status, n.title, n.ok)",
          "    b.type('#name', 'Py', clear=True)",
          "    b.click('#go')",
          "    print('title', b.evaluate('document.title').value)",
          "    png = b.screenshot()",
          "    print('png', png[:4] == b'\\x89PNG', len(png) > 1000)",
          "    paddock_agent.write_file('shot.png', png)",
          "    print('text', 'later' in b.text() or 'Go' in b.text())",
          "    print('blocked', b.navigate('http://blocked.paddock.test:" + origin.port() + "/x').http_status)",
          "    try:",
          "        b.click('#missing', timeout=0.3)",
          "    except paddock_agent.NotFound as e:",
          "        print('missing', e.reason)",
          "    browser_id = b.id",
          "print('id', browser_id)",
          // The jail itself still reaches nothing directly.
          "s = socket.socket()",
          "s.settimeout(2)",
          "print('direct', s.connect_ex(('127.0.0.1', " + origin.port() + ")) != 0)");
      var run = TestHost.collect(dev.paddock.ipc.v1.ExecServiceGrpc.newBlockingStub(host.channel(host.etaKey, null))
          .withDeadlineAfter(120, TimeUnit.SECONDS).exec(dev.paddock.ipc.v1.ExecRequest.newBuilder().setSessionId(session)
              .setIpc(true).addAllArgv(List.of("python3", "-c", script)).build()));
      assertThat(run.result().getExitCode()).as(run.err()).isZero();
      assertThat(run.out()).contains("page 200 Form True", "title hello Py x1", "png True True", "text True",
          "blocked 403", "missing NOT_FOUND", "direct True");
      String browserId = run.out().lines().filter(l -> l.startsWith("id ")).findFirst().orElseThrow().substring(3);
      // The browser was the session's, as the host API sees it, and closed when the with-block ended.
      assertThat(browsers(host.etaKey).getBrowser(GetBrowserRequest.newBuilder().setSessionId(session)
          .setBrowserId(browserId).build()).getState()).isEqualTo(BrowserState.BROWSER_STATE_CLOSED);
      var shot = TestHost.collect(dev.paddock.ipc.v1.ExecServiceGrpc.newBlockingStub(host.channel(host.etaKey, null))
          .exec(dev.paddock.ipc.v1.ExecRequest.newBuilder().setSessionId(session).addAllArgv(List.of("head", "-c", "4",
              "shot.png")).build()));
      assertThat(shot.stdout()).containsExactly(0x89, 'P', 'N', 'G');
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).filteredOn(r -> r.getAction()
          == AuditAction.AUDIT_ACTION_IPC_CALL && browserId.equals(r.getAttributesMap().get("browserId")))
          .extracting(r -> r.getAttributesMap().get("browserAction"))
          .contains("open", "navigate", "type", "click", "evaluate", "screenshot", "content", "close");
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  @Test
  void aWarmBrowserIsHandedToOneTaskOnlyAndItsWayOutIsThatTasks() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      String session = host.newSession(host.etaKey);
      // The test host keeps one blank browser started ahead (its jail's cgroup is "warm-<its id>"); other
      // tests may just have taken it, so ask until the one handed out is a warm one.
      String id = null;
      for (int i = 0; i < 20 && id == null; i++) {
        String candidate = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session)
            .build()).getBrowserId();
        if (ProcessHandle.current().descendants().map(BrowserEndToEndTest::cgroup).anyMatch(c -> c.contains("/warm-" + candidate))) {
          id = candidate;
        } else {
          browsers(host.etaKey).closeBrowser(dev.paddock.ipc.v1.CloseBrowserRequest.newBuilder().setSessionId(session)
              .setBrowserId(candidate).build());
          Thread.sleep(1500); // time for the pool to start another
        }
      }
      assertThat(id).as("a warm browser handed out").isNotNull();
      String warm = id;
      // Bound to this task's egress only now: its allow-list lets the page through, fresh, and the deny-list holds.
      assertThat(title(session, warm, "http://files.paddock.test:" + origin.port() + "/show-state")).isEqualTo("cookie= storage=");
      assertThat(browsers(host.etaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(warm)
          .setUrl("http://blocked.paddock.test:" + origin.port() + "/x").build()).getHttpStatus()).isEqualTo(403);
      // It is not handed out again: the next browser is another one.
      String next = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getBrowserId();
      assertThat(next).isNotEqualTo(warm);
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  @Test
  void stockPlaywrightDrivesABrowserThroughItsDevToolsEndpointWithItsTokenOnly() throws Exception {
    java.nio.file.Path playwright = dev.paddock.sandbox.JailRequirement.projectRoot()
        .resolve(".paddock/tools/playwright/node_modules/playwright-core");
    // scripts/setup installs it; a machine without it is not set up (never a reason to skip).
    assertThat(playwright).as("playwright-core (run scripts/setup)").isDirectory();
    try (OriginServer origin = new OriginServer()) {
      String session = host.newSession(host.etaKey);
      var created = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build());
      String url = created.getDevtoolsUrl();
      assertThat(url).startsWith("http://127.0.0.1:").contains(created.getBrowserId());
      assertThat(created.getDevtoolsWsUrl()).startsWith("ws://");
      // Shown once: Get and List do not carry the token.
      assertThat(browsers(host.etaKey).getBrowser(GetBrowserRequest.newBuilder().setSessionId(session)
          .setBrowserId(created.getBrowserId()).build()).getDevtoolsUrl()).isEmpty();

      String page = "http://files.paddock.test:" + origin.port() + "/form";
      String script = String.join("\n",
          "const { chromium } = require(process.argv[1]);",
          "(async () => {",
          "  const browser = await chromium.connectOverCDP(process.argv[2], { timeout: 20000 });",
          "  const context = browser.contexts()[0];",
          "  console.log('pages', context.pages().length);",
          "  const page = context.pages()[0];",
          "  const response = await page.goto(process.argv[3]);",
          "  await page.fill('#name', 'Playwright');",
          "  await page.click('#go');",
          "  console.log('status', response.status());",
          "  console.log('title', await page.title());",
          "  console.log('png', (await page.screenshot()).length > 1000);",
          "  await browser.close();",
          "})().catch(e => { console.error('FAILED', e.message); process.exit(3); });");
      dev.paddock.sandbox.ToolRun ok = node(script, playwright.toString(), url, page);
      assertThat(ok.exit()).as(ok.output()).isZero();
      assertThat(ok.output()).contains("pages 1", "status 200", "title hello Playwright x1", "png true");
      // The same browser and page the API drives.
      assertThat(evaluate(session, created.getBrowserId(), "document.title").getResultJson())
          .isEqualTo("\"hello Playwright x1\"");

      // Another tenant's token (for its own browser) does not open this one; nor does a made-up one.
      String alphaSession = host.newSession(host.alphaKey);
      String alphaUrl = browsers(host.alphaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(alphaSession)
          .build()).getDevtoolsUrl();
      String alphaToken = alphaUrl.substring(alphaUrl.lastIndexOf('/') + 1);
      String foreign = url.substring(0, url.lastIndexOf('/') + 1) + alphaToken;
      String madeUp = url.substring(0, url.lastIndexOf('/') + 1) + "0".repeat(32);
      for (String refused : List.of(foreign, madeUp)) {
        dev.paddock.sandbox.ToolRun r = node(script, playwright.toString(), refused, page);
        assertThat(r.exit()).as(r.output()).isEqualTo(3);
        assertThat(r.output()).contains("403");
      }
      // A closed session's browser: refused too.
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
      dev.paddock.sandbox.ToolRun closed = node(script, playwright.toString(), url, page);
      assertThat(closed.exit()).as(closed.output()).isEqualTo(3);
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).anySatisfy(r -> {
        assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_BROWSER_ACTION);
        assertThat(r.getAttributesMap()).containsEntry("method", "DevToolsAttach")
            .containsEntry("browserId", created.getBrowserId());
        assertThat(r.getTenant()).isEqualTo("eta");
      });
      host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(alphaSession).build());
    }
  }

  private static dev.paddock.sandbox.ToolRun node(String script, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("node", "-e", script));
    command.addAll(List.of(args));
    return dev.paddock.sandbox.ToolRun.run(null, java.util.Map.of(), java.time.Duration.ofSeconds(90), command);
  }

  @Test
  void aLoginSecretReachesItsSiteByReferenceAndNeverThePage() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      // Bound by the operator to api.paddock.test's Authorization header (TestHost); the session asks for it by name.
      String session = host.sessions(host.etaKey).createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder()
          .addHeaderSecrets("API_TOKEN").build()).getSessionId();
      String apiToken = host.putSecret("eta", "API_TOKEN", "api_tok_");
      String id = browsers(host.etaKey).createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build())
          .getBrowserId();
      var page = browsers(host.etaKey).navigate(NavigateRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setUrl("http://api.paddock.test:" + origin.port() + "/auth").build());
      assertThat(page.getHttpStatus()).isEqualTo(200);
      assertThat(origin.authorizations).last().isEqualTo("Bearer " + apiToken);
      // The page, its DOM and its scripts never hold the value: the proxy added it on the way out.
      String html = browsers(host.etaKey).getContent(GetContentRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setFormat(ContentFormat.CONTENT_FORMAT_HTML).build()).getContent();
      assertThat(html).contains("auth header present: true").doesNotContain(apiToken);
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).noneMatch(r -> r.toString().contains(apiToken))
          .anySatisfy(r -> {
            assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS);
            assertThat(r.getTarget()).isEqualTo("API_TOKEN");
            assertThat(r.getAttributesMap()).containsEntry("session", session).containsEntry("host", "api.paddock.test");
          });
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }

  @Test
  void aPasswordFieldGetsAVaultSecretOnlyOnItsBoundOriginAndNothingReadsItBack() throws Exception {
    try (OriginServer origin = new OriginServer()) {
      String password = host.putSecret("eta", "LOGIN_PASSWORD", "pw_");
      String site = "http://login.paddock.test:" + origin.port();
      // The operator binds the secret to the login site's origin (the tenants file is read again within a second).
      java.nio.file.Path tenantsFile = host.dataDir.resolve("tenants.yaml");
      var doc = dev.paddock.runtime.tenant.TenantsFile.read(tenantsFile);
      for (var t : doc.tenants) {
        if (t.id.equals("eta")) {
          var bound = new dev.paddock.runtime.tenant.TenantsFile.FormSecretEntry();
          bound.secret = "LOGIN_PASSWORD";
          bound.origin = site;
          t.browser.formSecrets = List.of(bound);
        }
      }
      dev.paddock.runtime.tenant.TenantsFile.write(tenantsFile, doc);
      Thread.sleep(1200);

      String session = host.newSession(host.etaKey);
      var b = browsers(host.etaKey);
      String id = b.createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build()).getBrowserId();
      TypeRequest.Builder fill = TypeRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#pass")
          .setSecret("LOGIN_PASSWORD").setTimeout(millis(2000));

      // The same page on another origin does not get it; nor does a field that is not a password field.
      assertThat(title(session, id, "http://files.paddock.test:" + origin.port() + "/login")).isEqualTo("Login");
      StatusRuntimeException elsewhere = catchThrowableOfType(StatusRuntimeException.class, () -> b.type(fill.build()));
      assertThat(elsewhere.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(elsewhere.getStatus().getDescription()).contains("files.paddock.test").contains(site);
      assertThat(title(session, id, site + "/login")).isEqualTo("Login");
      StatusRuntimeException notPassword = catchThrowableOfType(StatusRuntimeException.class,
          () -> b.type(fill.clone().setSelector("#user").build()));
      assertThat(notPassword.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(notPassword.getStatus().getDescription()).contains("not a password field");
      // A secret the operator did not bind, and text with a secret, are refused before the page is touched.
      StatusRuntimeException unbound = catchThrowableOfType(StatusRuntimeException.class,
          () -> b.type(fill.clone().setSecret("API_TOKEN").build()));
      assertThat(unbound.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(TestHost.failure(unbound).info().getMetadataMap()).containsEntry("secret", "API_TOKEN");
      StatusRuntimeException both = catchThrowableOfType(StatusRuntimeException.class,
          () -> b.type(fill.clone().setText("x").build()));
      assertThat(both.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

      b.type(TypeRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#user").setText("ada").build());
      b.type(fill.build());
      // The page's own script saw it typed; the DOM the caller can read does not hold it, and no script of the
      // caller's runs in this browser from now on.
      String html = b.getContent(GetContentRequest.newBuilder().setSessionId(session).setBrowserId(id)
          .setFormat(ContentFormat.CONTENT_FORMAT_HTML).build()).getContent();
      assertThat(html).contains("<title>typed " + password.length() + "</title>").doesNotContain(password);
      StatusRuntimeException script = catchThrowableOfType(StatusRuntimeException.class, () -> b.evaluate(EvaluateRequest
          .newBuilder().setSessionId(session).setBrowserId(id).setExpression("document.getElementById('pass').value").build()));
      assertThat(script.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      b.click(ClickRequest.newBuilder().setSessionId(session).setBrowserId(id).setSelector("#login").build());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (origin.logins.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(origin.logins).containsExactly("user=ada&pass=" + java.net.URLEncoder.encode(password,
          java.nio.charset.StandardCharsets.UTF_8));

      // A browser that ran the caller's script gets no secret: the script could have left a listener behind.
      String scripted = b.createBrowser(CreateBrowserRequest.newBuilder().setSessionId(session).build()).getBrowserId();
      assertThat(title(session, scripted, site + "/login")).isEqualTo("Login");
      evaluate(session, scripted, "1");
      StatusRuntimeException tainted = catchThrowableOfType(StatusRuntimeException.class,
          () -> b.type(fill.clone().setBrowserId(scripted).build()));
      assertThat(tainted.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(tainted.getStatus().getDescription()).contains("scripts");

      // The audit log names the secret and never holds its value.
      assertThat(Segments.readAll(host.dataDir.resolve("audit"))).noneMatch(r -> r.toString().contains(password))
          .anySatisfy(r -> {
            assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_BROWSER_ACTION);
            assertThat(r.getAttributesMap()).containsEntry("method", "Type").containsEntry("secret", "LOGIN_PASSWORD");
          })
          .anySatisfy(r -> {
            assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS);
            assertThat(r.getTarget()).isEqualTo("LOGIN_PASSWORD");
            assertThat(r.getAttributesMap()).containsEntry("browserId", id).containsEntry("origin", site);
          });
      host.sessions(host.etaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(session).build());
    }
  }
}
