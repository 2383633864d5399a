package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.paddock.audit.log.Segments;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.DeleteSecretRequest;
import dev.paddock.ipc.v1.ListSecretsRequest;
import dev.paddock.ipc.v1.PutSecretRequest;
import dev.paddock.ipc.v1.RotateSecretKeyRequest;
import dev.paddock.ipc.v1.SecretServiceGrpc;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.tenant.Scope;
import dev.paddock.runtime.tenant.TenantAdmin;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SecretService over a real host: values go in and never come out, per tenant, every change audited. */
class SecretEndToEndTest extends SharedHostTest {
  private static final String VALUE = "ghp_thisIsAVerySecretTokenValue42";

  private SecretServiceGrpc.SecretServiceBlockingStub secrets(String key, String requestId) {
    return SecretServiceGrpc.newBlockingStub(host.channel(key, requestId)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** A key of {@code tenant} with the secrets scope, once the host has taken the tenants file change. */
  private String secretsKey(String tenant) throws Exception {
    String key = new TenantAdmin(host.dataDir.resolve("tenants.yaml"), Clock.systemUTC())
        .createKey(tenant, "secrets-" + System.nanoTime(), EnumSet.of(Scope.SECRETS)).key();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        secrets(key, null).listSecrets(ListSecretsRequest.getDefaultInstance());
        return key;
      } catch (StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  @Test
  void valuesGoInNeverComeOutStayWithTheirTenantAndEveryChangeIsRecorded() throws Exception {
    String alpha = secretsKey("alpha");
    String beta = secretsKey("beta");
    assertThat(secrets(alpha, "t-put1").putSecret(PutSecretRequest.newBuilder().setName("GITHUB_TOKEN")
        .setValue(ByteString.copyFromUtf8(VALUE)).build()).getVersion()).isEqualTo(1);
    assertThat(secrets(alpha, "t-put2").putSecret(PutSecretRequest.newBuilder().setName("GITHUB_TOKEN")
        .setValue(ByteString.copyFromUtf8(VALUE + "2")).build()).getVersion()).isEqualTo(2);
    var listing = secrets(alpha, null).listSecrets(ListSecretsRequest.getDefaultInstance());
    assertThat(listing.getSecretsList()).singleElement().satisfies(s -> assertThat(s.getName()).isEqualTo("GITHUB_TOKEN"));
    assertThat(listing.toString()).doesNotContain("VerySecret");

    // Another tenant sees none of it; a planner key (default scopes) may not use the service at all.
    assertThat(secrets(beta, null).listSecrets(ListSecretsRequest.getDefaultInstance()).getSecretsList()).isEmpty();
    assertThatThrownBy(() -> secrets(beta, null).deleteSecret(DeleteSecretRequest.newBuilder().setName("GITHUB_TOKEN").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThatThrownBy(() -> secrets(host.alphaKey, null).listSecrets(ListSecretsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> secrets(alpha, null).putSecret(PutSecretRequest.newBuilder().setName("../etc")
        .setValue(ByteString.copyFromUtf8("x")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));

    String rotated = secrets(alpha, "t-rotate").rotateSecretKey(RotateSecretKeyRequest.getDefaultInstance()).getDataKeyId();
    assertThat(rotated).isNotEqualTo(listing.getDataKeyId());

    // On disk, in the audit log: never the value, nor a digest of it.
    String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(VALUE.getBytes(StandardCharsets.UTF_8)));
    assertThat(Files.readString(host.dataDir.resolve("vault/alpha.json"))).doesNotContain("VerySecret");
    List<AuditRecord> records = Segments.readAll(host.dataDir.resolve("audit"));
    assertThat(records).filteredOn(r -> r.getRequestId().equals("t-put1")).singleElement().satisfies(r -> {
      assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_SECRET_WRITTEN);
      assertThat(r.getTenant()).isEqualTo("alpha");
      assertThat(r.getTarget()).isEqualTo("GITHUB_TOKEN");
    });
    assertThat(records).filteredOn(r -> r.getRequestId().equals("t-rotate")).singleElement()
        .satisfies(r -> assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_SECRET_KEY_ROTATED));
    for (AuditRecord r : records) {
      String text = r.toString();
      assertThat(text).doesNotContain("VerySecret").doesNotContain(digest);
      assertThat(r.getArgumentsSha256().toByteArray()).isNotEqualTo(HexFormat.of().parseHex(digest));
    }

    // The CLI: the value from stdin, never argv; list prints no value.
    InputStream stdin = System.in;
    CliCapture.Cli put;
    try {
      System.setIn(new ByteArrayInputStream((VALUE + "\n").getBytes(StandardCharsets.UTF_8)));
      put = CliCapture.run("secrets", "put", "--name", "NPM_TOKEN", "--server", "127.0.0.1:" + host.port(), "--api-key", alpha);
    } finally {
      System.setIn(stdin);
    }
    assertThat(put.exit()).isZero();
    CliCapture.Cli list = CliCapture.run("secrets", "list", "--server", "127.0.0.1:" + host.port(), "--api-key", alpha);
    assertThat(list.out()).contains("GITHUB_TOKEN 2").contains("NPM_TOKEN 1").doesNotContain("VerySecret");

    secrets(alpha, "t-delete").deleteSecret(DeleteSecretRequest.newBuilder().setName("GITHUB_TOKEN").build());
    assertThat(secrets(alpha, null).listSecrets(ListSecretsRequest.getDefaultInstance()).getSecretsList())
        .extracting(s -> s.getName()).containsExactly("NPM_TOKEN");
    assertThat(Segments.readAll(host.dataDir.resolve("audit"))).filteredOn(r -> r.getRequestId().equals("t-delete"))
        .singleElement().satisfies(r -> assertThat(r.getAction()).isEqualTo(AuditAction.AUDIT_ACTION_SECRET_DELETED));
  }

  @Test
  void aSecretGivenToAnExecByReferenceIsRedactedFromItsOutputAndItsUseRecorded() throws Exception {
    String admin = secretsKey("alpha");
    String value = "tok_" + Long.toHexString(System.nanoTime()) + "_SecretValue";
    secrets(admin, null).putSecret(PutSecretRequest.newBuilder().setName("API_TOKEN").setValue(ByteString.copyFromUtf8(value)).build());
    String session = host.newSession(host.alphaKey);
    dev.paddock.ipc.v1.ExecRequest request = dev.paddock.ipc.v1.ExecRequest.newBuilder().setSessionId(session)
        .addAllArgv(List.of("sh", "-c", "echo \"t=$TOKEN\"; echo \"$TOKEN\" >&2; printf %s \"$TOKEN\" | wc -c"))
        .addSecretEnv(dev.paddock.ipc.v1.SecretEnv.newBuilder().setSecret("API_TOKEN").setEnv("TOKEN")).build();
    TestHost.Outcome run = host.exec(host.alphaKey, request);
    assertThat(run.result().getStatus()).isEqualTo(dev.paddock.ipc.v1.ExecStatus.EXEC_STATUS_OK);
    assertThat(run.out()).isEqualTo("t=[REDACTED:API_TOKEN]\n" + value.length() + "\n").doesNotContain(value);
    assertThat(run.err()).isEqualTo("[REDACTED:API_TOKEN]\n");

    List<AuditRecord> records = Segments.readAll(host.dataDir.resolve("audit"));
    AuditRecord access = records.stream().filter(r -> r.getAction() == AuditAction.AUDIT_ACTION_CREDENTIAL_ACCESS
        && r.getAttributesMap().get("exec").equals(run.execId())).findFirst().orElseThrow();
    assertThat(access.getTarget()).isEqualTo("API_TOKEN");
    assertThat(access.getTenant()).isEqualTo("alpha");
    assertThat(access.getAttributesMap()).containsEntry("env", "TOKEN").containsEntry("session", session);
    AuditRecord started = records.stream().filter(r -> r.getAction() == AuditAction.AUDIT_ACTION_EXEC_STARTED
        && r.getTarget().equals(run.execId())).findFirst().orElseThrow();
    assertThat(access.getSequence()).as("recorded before the exec started").isLessThan(started.getSequence());
    assertThat(records).allSatisfy(r -> assertThat(r.toString()).doesNotContain(value));

    // A tool that reports the value as progress over its IPC channel: redacted there too.
    TestHost.Outcome progress = host.exec(host.alphaKey, request.toBuilder().clearArgv().setIpc(true)
        .addAllArgv(List.of("python3", "-c", "import os, paddock_agent\npaddock_agent.progress('using ' + os.environ['TOKEN'], 0.5)"))
        .build());
    assertThat(progress.events()).filteredOn(e -> e.hasProgress()).singleElement()
        .satisfies(e -> assertThat(e.getProgress().getMessage()).isEqualTo("using [REDACTED:API_TOKEN]"));

    // The same from the CLI: paddock exec --secret VAR=SECRET.
    CliCapture.Cli cli = CliCapture.run("exec", "--server", "127.0.0.1:" + host.port(), "--api-key", host.alphaKey,
        "--no-stdin", "--secret", "TOKEN=API_TOKEN", "--", "sh", "-c", "echo \"$TOKEN\"");
    assertThat(cli.exit()).isZero();
    assertThat(cli.out()).isEqualTo("[REDACTED:API_TOKEN]\n");

    // Where the policy keeps secrets out, an unknown secret, a variable also in env: refused, nothing runs.
    String isolated = SessionServiceGrpc.newBlockingStub(host.channel(host.alphaKey, null))
        .createSession(dev.paddock.ipc.v1.CreateSessionRequest.newBuilder().setPolicy("isolated").build()).getSessionId();
    assertThatThrownBy(() -> host.exec(host.alphaKey, request.toBuilder().setSessionId(isolated).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> host.exec(host.alphaKey, request.toBuilder().setSecretEnv(0,
        dev.paddock.ipc.v1.SecretEnv.newBuilder().setSecret("NOPE").setEnv("TOKEN")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    assertThatThrownBy(() -> host.exec(host.alphaKey, request.toBuilder().putEnv("TOKEN", "x").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }
}
