package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.audit.log.Segments;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.EgressDenied;
import dev.paddock.ipc.v1.EgressDenyReason;
import dev.paddock.ipc.v1.ExecEvent;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Egress through the host's proxy, with real tools in a real jail: the test tenant "eta" may reach
 * names under paddock.test (resolved by the host to an origin server on 127.0.0.1), nothing else.
 */
class EgressEndToEndTest extends SharedHostTest {
  private OriginServer origin;

  @BeforeAll
  void startOrigin() throws Exception {
    origin = new OriginServer();
  }

  @AfterAll
  void stopOrigin() {
    origin.close();
  }

  private String url(String name, String path) {
    return "http://" + name + ".paddock.test:" + origin.port() + path;
  }

  /**
   * The session's audit records of {@code action}, in order, once {@code enough} holds for them or
   * {@code seconds} have passed (a record can land just after the tool's exec ended).
   */
  private List<AuditRecord> audited(String session, AuditAction action, int seconds,
      java.util.function.Predicate<List<AuditRecord>> enough) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      List<AuditRecord> records = Segments.readAll(host.dataDir.resolve("audit")).stream()
          .filter(r -> r.getAction() == action && r.getTarget().equals(session)).toList();
      if (enough.test(records) || System.nanoTime() > deadline) {
        return records;
      }
      Thread.sleep(50);
    }
  }

  private TestHost.Outcome sh(String session, String script) {
    return host.exec(host.etaKey, session, "/bin/sh", "-c", script);
  }

  @Test
  void toolsReachAnAllowedHostThroughTheProxyWithNoChanges() throws Exception {
    String session = host.newSession(host.etaKey);
    // curl: a plain request through HTTP_PROXY, then the same through a CONNECT tunnel, then SOCKS5
    // (ALL_PROXY=socks5h://) with the HTTP proxy variables removed.
    TestHost.Outcome curl = sh(session, "curl -sS -f " + url("files", "/hello")
        + " && curl -sS -f --proxytunnel " + url("files", "/hello")
        + " && env -u HTTP_PROXY -u http_proxy curl -sS -f " + url("files", "/hello"));
    assertThat(curl.err()).isEmpty();
    assertThat(curl.out()).isEqualTo(OriginServer.GREETING.repeat(3));
    assertThat(curl.result().getExitCode()).isZero();

    TestHost.Outcome urllib = sh(session, "python3 -c \"import urllib.request; print(urllib.request.urlopen('"
        + url("files", "/hello") + "').read().decode(), end='')\"");
    assertThat(urllib.err()).isEmpty();
    assertThat(urllib.out()).isEqualTo(OriginServer.GREETING);

    TestHost.Outcome pip = sh(session, "python3 -m pip download --no-deps --no-cache-dir --disable-pip-version-check"
        + " --index-url " + url("pypi", "/simple/") + " --trusted-host pypi.paddock.test -d /workspace/dl paddock-demo"
        + " && ls /workspace/dl");
    assertThat(pip.result().getExitCode()).as(pip.err()).isZero();
    assertThat(pip.out()).contains(OriginServer.WHEEL);
    assertThat(origin.paths).contains("/simple/paddock-demo/", "/packages/" + OriginServer.WHEEL);

    // Each allowed connection is recorded when it has closed, which may be just after the tool exited.
    List<AuditRecord> records = audited(session, AuditAction.AUDIT_ACTION_EGRESS_CONNECTION, 10, rs -> rs.size() >= 6);
    assertThat(records)
        .hasSizeGreaterThanOrEqualTo(6)
        .allSatisfy(r -> {
          assertThat(r.getTenant()).isEqualTo("eta");
          assertThat(r.getAttributesMap()).containsEntry("address", "127.0.0.1").containsKey("bytesIn");
        });
  }

  @Test
  void everyWayOutTheListsDoNotAllowFailsAndEachDenialIsAnEvent() throws Exception {
    String session = host.newSession(host.etaKey);
    String check = "code() { curl -s -o /dev/null -w '%{http_code}' \"$@\"; echo; }; ";
    TestHost.Outcome run = sh(session, check
        + "code " + url("blocked", "/hello")                       // deny-listed name
        + "; code http://example.com/"                               // not on the allow-list
        + "; code -x http://127.0.0.1:3128 http://93.184.216.34/"    // a raw address through the proxy
        + "; code " + url("private", "/hello")                       // allowed name, private address
        + "; code " + url("metadata", "/hello"));                    // allowed name, metadata address
    assertThat(run.out()).isEqualTo("403\n403\n403\n403\n403\n");
    List<EgressDenied> denials = run.events().stream().filter(ExecEvent::hasEgressDenied).map(ExecEvent::getEgressDenied).toList();
    assertThat(denials).extracting(EgressDenied::getReason).containsExactly(
        EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED, EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED,
        EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED, EgressDenyReason.EGRESS_DENY_REASON_PRIVATE_ADDRESS,
        EgressDenyReason.EGRESS_DENY_REASON_PRIVATE_ADDRESS);
    assertThat(denials).extracting(EgressDenied::getHost).containsExactly("blocked.paddock.test", "example.com",
        "93.184.216.34", "private.paddock.test", "metadata.paddock.test");
    assertThat(denials.get(3).getAddress()).isEqualTo("10.11.12.13");
    assertThat(denials.get(4).getAddress()).isEqualTo("169.254.169.254");

    // SOCKS5 is refused the same way (curl exits 97: the proxy refused the connection).
    TestHost.Outcome socks = sh(session, "env -u HTTP_PROXY -u http_proxy curl -s " + url("blocked", "/") + "; echo $?");
    assertThat(socks.out()).isEqualTo("97\n");
    assertThat(socks.events()).filteredOn(ExecEvent::hasEgressDenied).singleElement()
        .satisfies(e -> assertThat(e.getEgressDenied().getProtocol()).isEqualTo("socks5"));

    // A tool that ignores the proxy variables has no way out: the jail's only interface is its
    // own loopback (the origin's port there is closed), and nothing routes anywhere else. Each
    // attempt to leave (IPv4, IPv6, TCP or a UDP datagram) is reported when the exec's output
    // ends, before its result: the kernel counts it, but does not say where it went.
    TestHost.Outcome direct = sh(session, "python3 - <<'EOF'\n"
        + "import socket\n"
        + "for target in [('127.0.0.1', " + origin.port() + "), ('93.184.216.34', 80), ('10.11.12.13', 80),"
        + " ('2001:db8::1', 80)]:\n"
        + "    try:\n"
        + "        socket.create_connection(target, timeout=5)\n"
        + "        print('connected', target)\n"
        + "    except OSError as e:\n"
        + "        print(type(e).__name__)\n"
        + "try:\n"
        + "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'q', ('8.8.8.8', 53))\n"
        + "    print('sent')\n"
        + "except OSError as e:\n"
        + "    print(type(e).__name__)\n"
        + "EOF");
    assertThat(direct.out()).isEqualTo("ConnectionRefusedError\nOSError\nOSError\nOSError\nOSError\n");
    assertThat(direct.events()).filteredOn(ExecEvent::hasEgressDenied).extracting(ExecEvent::getEgressDenied)
        .hasSize(4).allSatisfy(d -> {
          assertThat(d.getReason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_DIRECT_CONNECTION);
          assertThat(d.getHost()).isEmpty();
          assertThat(d.getPort()).isZero();
          assertThat(d.getProtocol()).isEqualTo("direct");
        });
    assertThat(origin.paths).doesNotContain("/");
    // Reported once: the next exec of the session finds nothing new.
    assertThat(sh(session, "true").events()).noneMatch(ExecEvent::hasEgressDenied);
    // However short the exec that tried (a short one is checked after its result, within about a
    // second), the attempt reaches the audit log.
    TestHost.Outcome quick = sh(session, "bash -c 'echo > /dev/tcp/93.184.216.34/80' 2>/dev/null; echo $?");
    assertThat(quick.out()).isEqualTo("1\n");
    List<AuditRecord> audited = audited(session, AuditAction.AUDIT_ACTION_EGRESS_DENIED, 5,
        rs -> rs.stream().filter(r -> r.getOutcome().equals("DIRECT_CONNECTION")).count() >= 5);
    assertThat(audited).extracting(AuditRecord::getOutcome)
        .containsExactly("DENY_LISTED", "NOT_ALLOWED", "NOT_ALLOWED", "PRIVATE_ADDRESS", "PRIVATE_ADDRESS", "DENY_LISTED",
            "DIRECT_CONNECTION", "DIRECT_CONNECTION", "DIRECT_CONNECTION", "DIRECT_CONNECTION", "DIRECT_CONNECTION");
    // Each names the exec that was running, but the last: the quick exec had ended before its check.
    assertThat(audited.subList(0, audited.size() - 1)).allSatisfy(r -> assertThat(r.getAttributesMap()).containsKey("exec"));
  }

  @Test
  void connectionsAndBandwidthAreTheTenantsBudget() {
    String session = host.newSession(host.etaKey);
    // Hold every connection the tenant may have open, then ask for one more.
    TestHost.Outcome held = sh(session, "python3 - <<'EOF'\n"
        + "import socket\n"
        + "def tunnel():\n"
        + "    s = socket.create_connection(('127.0.0.1', 3128))\n"
        + "    s.sendall(b'CONNECT files.paddock.test:" + origin.port() + " HTTP/1.1\\r\\n\\r\\n')\n"
        + "    return s, s.recv(200).split(b'\\r\\n')[0].decode()\n"
        + "open_ = [tunnel() for _ in range(" + TestHost.EGRESS_MAX_CONNECTIONS + ")]\n"
        + "print(*[line for _, line in open_], sep='\\n')\n"
        + "extra, line = tunnel()\n"
        + "print(line)\n"
        + "for s, _ in open_: s.close()\n"
        + "EOF");
    assertThat(held.out()).isEqualTo("HTTP/1.1 200 Connection established\n".repeat(TestHost.EGRESS_MAX_CONNECTIONS)
        + "HTTP/1.1 429 Too Many Requests\n");
    assertThat(held.events()).filteredOn(ExecEvent::hasEgressDenied).singleElement()
        .satisfies(e -> assertThat(e.getEgressDenied().getReason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_BUDGET));

    // 3x the tenant's bandwidth per second cannot arrive in much less than two seconds (one
    // second's worth may come at once). A lower bound: the machine being slow cannot fail it.
    long bytes = 3 * TestHost.EGRESS_BYTES_PER_SECOND;
    TestHost.Outcome download = sh(session, "curl -sS -o /dev/null -w '%{size_download} %{time_total}' " + url("files", "/bytes/" + bytes));
    String[] f = download.out().split(" ");
    assertThat(Long.parseLong(f[0])).isEqualTo(bytes);
    assertThat(Double.parseDouble(f[1])).isGreaterThan(1.5);

    var usage = dev.paddock.ipc.v1.TenantServiceGrpc.newBlockingStub(host.channel(host.etaKey, null))
        .getTenantUsage(dev.paddock.ipc.v1.GetTenantUsageRequest.getDefaultInstance());
    assertThat(usage.getBudgetsList()).filteredOn(b -> b.getName().equals("egress_connections")).singleElement()
        .satisfies(b -> assertThat(b.getLimit()).isEqualTo(TestHost.EGRESS_MAX_CONNECTIONS));
    assertThat(usage.getEgress().getAllowed()).isGreaterThanOrEqualTo(TestHost.EGRESS_MAX_CONNECTIONS + 1);
    assertThat(usage.getEgress().getBytesIn()).isGreaterThanOrEqualTo(bytes);
    assertThat(usage.getEgress().getDeniedList()).anySatisfy(d -> assertThat(d.getReason()).isEqualTo("BUDGET"));
  }

  @Test
  void aSessionNarrowsItsTenantsListsAndCannotWidenThem() {
    String session = host.sessions(host.etaKey).createSession(CreateSessionRequest.newBuilder()
        .setEgress(dev.paddock.ipc.v1.EgressRules.newBuilder().addAllow("files.paddock.test").addAllow("example.com"))
        .build()).getSessionId();
    TestHost.Outcome run = sh(session, "for u in " + url("files", "/hello") + " " + url("pypi", "/simple/paddock-demo/")
        + " http://example.com/; do curl -s -o /dev/null -w '%{http_code} ' $u; done");
    assertThat(run.out()).isEqualTo("200 403 403 ");

    // The same from the command line: the denial is a note on stderr, the tool's own output as is.
    CliCapture.Cli cli = CliCapture.run("exec", "--server", "127.0.0.1:" + host.port(), "--api-key", host.etaKey,
        "--allow", "files.paddock.test", "--", "/bin/sh", "-c", "curl -s -o /dev/null -w '%{http_code}' " + url("pypi", "/"));
    assertThat(cli.out()).isEqualTo("403");
    assertThat(cli.err()).contains("egress denied (NOT_ALLOWED): no allow-list entry of the session covers pypi.paddock.test");
  }

  @Test
  void aHeaderSecretReachesItsHostAndNothingInTheJailSeesIt() throws Exception {
    String token = putSecret("API_TOKEN", "tok_");

    String session = host.sessions(host.etaKey).createSession(CreateSessionRequest.newBuilder()
        .addHeaderSecrets("API_TOKEN").build()).getSessionId();
    TestHost.Outcome run = sh(session, "curl -sS " + url("api", "/auth") + " -o /workspace/reply.txt"
        + " && cat /workspace/reply.txt; env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n';"
        // The value split in two, so this command line does not hold it.
        + " grep -rlF \"$(printf %s%s " + token.substring(0, 8) + " " + token.substring(8) + ")\" /workspace /tmp && echo FOU''ND; echo done");
    assertThat(origin.authorizations).contains("Bearer " + token);
    assertThat(run.out()).contains("auth header present: true").endsWith("done\n").doesNotContain(token).doesNotContain("FOUND");
    assertThat(run.err()).doesNotContain(token);
    // Another host of the allow-list never gets it.
    sh(session, "curl -sS " + url("files", "/auth"));
    assertThat(origin.authorizations).last().isEqualTo("");

    List<AuditRecord> records = Segments.readAll(host.dataDir.resolve("audit"));
    assertThat(records).noneMatch(r -> r.toString().contains(token));
    assertThat(records).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS
            && r.getAttributesMap().getOrDefault("session", "").equals(session))
        .singleElement().satisfies(r -> {
          assertThat(r.getTarget()).isEqualTo("API_TOKEN");
          assertThat(r.getAttributesMap()).containsEntry("host", "api.paddock.test").containsEntry("header", "Authorization")
              .containsKey("exec");
        });
  }

  @Test
  void aHeaderSecretBoundToHttpsTravelsOnlyOverTlsWhileTheToolAsksForPlainHttp(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    javax.net.ssl.SSLContext tls = OriginServer.selfSigned(dir, "secure.paddock.test", host.dataDir.resolve(TestHost.EGRESS_CA_FILE));
    try (OriginServer secure = new OriginServer(tls)) {
      String token = putSecret("TLS_TOKEN", "tls_");
      String session = host.sessions(host.etaKey).createSession(CreateSessionRequest.newBuilder()
          .addHeaderSecrets("TLS_TOKEN").build()).getSessionId();
      // http:// from the tool, TLS (with the certificate checked) from the proxy on.
      TestHost.Outcome run = sh(session, "curl -sS http://secure.paddock.test:" + secure.port() + "/auth");
      assertThat(run.err()).isEmpty();
      assertThat(run.out()).isEqualTo("auth header present: true\n");
      assertThat(secure.authorizations).containsExactly("Bearer " + token);
      // The plain origin on the same names never gets a TLS-bound secret.
      sh(session, "curl -sS " + url("files", "/auth"));
      assertThat(origin.authorizations).last().isEqualTo("");
    }
  }

  @Test
  void aHeaderSecretTheTenantDoesNotBindIsRefusedAtCreate() throws Exception {
    var e = org.assertj.core.api.Assertions.catchThrowableOfType(() -> host.sessions(host.etaKey).createSession(
        CreateSessionRequest.newBuilder().addHeaderSecrets("OTHER").build()), StatusRuntimeException.class);
    assertThat(TestHost.failure(e).info().getReason()).isEqualTo("PERMISSION_DENIED_POLICY");
    var bad = org.assertj.core.api.Assertions.catchThrowableOfType(() -> host.sessions(host.etaKey).createSession(
        CreateSessionRequest.newBuilder().setEgress(dev.paddock.ipc.v1.EgressRules.newBuilder().addAllow("ok.example")
            .addAllow("bad host")).build()), StatusRuntimeException.class);
    assertThat(TestHost.failure(bad).badRequest().getFieldViolations(0).getField()).isEqualTo("egress.allow[1]");
  }

  private String putSecret(String name, String prefix) throws Exception {
    return host.putSecret("eta", name, prefix);
  }
}
