package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.audit.log.Segments;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.CreateSessionRequest;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed policy packs on a real host, through the operator's CLI: a signed pack comes into force, a
 * pack altered by one byte is refused while the last good one stays, an old pack cannot be
 * replayed, a rollback is a newer pack with the old content, and the pack's version is on the audit
 * records of what ran under it.
 */
class PolicyPackEndToEndTest {
  private static final String PACK = """
      format: paddock-policy-pack/v1
      version: %d
      description: "%s"
      policies:
        ci:
          base: isolated
          ipc: [progress]
      tenants:
        alpha:
          maxSessions: %d
      """;

  @Test
  void signedPacksComeIntoForceAlteredOnesAreRefusedAndEveryRecordNamesThePack(@TempDir Path temp) throws Exception {
    try (TestHost host = new TestHost(Files.createDirectories(temp.resolve("host")))) {
      Path data = host.dataDir;
      // Without a pack the built-in policies are all there is, and records name no pack.
      assertThat(createWithPolicy(host, "ci")).isFalse();
      String key = temp.resolve("policy.key").toString();
      CliCapture.Cli made = CliCapture.run("policy", "new-key", "--name", "policy.test", "--out", key);
      assertThat(made.exit()).as(made.err()).isZero();
      assertThat(CliCapture.run("policy", "trust", "--data-dir", data.toString(), made.out().strip()).exit()).isZero();

      Path v1 = sign(temp, key, 1, "first", 5);
      CliCapture.Cli verified = CliCapture.run("policy", "verify", "--data-dir", data.toString(), v1.toString());
      assertThat(verified.exit()).as(verified.err()).isZero();
      String label1 = verified.out().split(" ")[1];
      assertThat(label1).startsWith("v1@sha256:");
      assertThat(CliCapture.run("policy", "apply", "--data-dir", data.toString(), v1.toString()).exit()).isZero();
      await(() -> createWithPolicy(host, "ci"));
      String session = host.newSession(host.alphaKey);
      TestHost.Outcome ran = host.exec(host.alphaKey, session, "/bin/echo", "under v1");
      assertThat(ran.out()).isEqualTo("under v1\n");
      assertThat(startedRecord(data, ran.execId()).getPolicyPack()).isEqualTo(label1);

      // One byte of a signed v2 changed: the CLI refuses it, and so does the host when it is
      // written over the pack file behind the CLI's back; v1 stays in force.
      Path v2 = sign(temp, key, 2, "second", 7);
      String altered = Files.readString(v2).replace("maxSessions: 7", "maxSessions: 8");
      Path tampered = temp.resolve("tampered.signed");
      Files.writeString(tampered, altered);
      CliCapture.Cli refused = CliCapture.run("policy", "apply", "--data-dir", data.toString(), tampered.toString());
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("altered");
      Files.writeString(data.resolve("policy/pack.signed"), altered);
      await(() -> records(data).stream().anyMatch(r -> r.getAction() == AuditAction.AUDIT_ACTION_POLICY_LOADED
          && r.getOutcome().equals("FAILED_PRECONDITION") && r.getAttributesOrDefault("reason", "").contains("altered")));
      TestHost.Outcome still = host.exec(host.alphaKey, session, "/bin/true");
      assertThat(startedRecord(data, still.execId()).getPolicyPack()).isEqualTo(label1);
      assertThat(createWithPolicy(host, "ci")).isTrue();

      // A valid v2 comes into force; v1, though signed, cannot be replayed over it.
      assertThat(CliCapture.run("policy", "apply", "--data-dir", data.toString(), v2.toString()).exit()).isZero();
      String label2 = CliCapture.run("policy", "verify", "--data-dir", data.toString(), v2.toString()).out().split(" ")[1];
      await(() -> startedRecord(data, host.exec(host.alphaKey, session, "/bin/true").execId()).getPolicyPack().equals(label2));
      CliCapture.Cli replay = CliCapture.run("policy", "apply", "--data-dir", data.toString(), v1.toString());
      assertThat(replay.exit()).isEqualTo(1);
      assertThat(replay.err()).contains("not higher");

      // Rolling back to v1 makes v3 with v1's content.
      CliCapture.Cli rollback = CliCapture.run("policy", "rollback", "--data-dir", data.toString(), "--to", "1", "--key", key);
      assertThat(rollback.exit()).as(rollback.err()).isZero();
      assertThat(rollback.out()).contains("v3@sha256:").contains("rollback to version 1");
      await(() -> startedRecord(data, host.exec(host.alphaKey, session, "/bin/true").execId()).getPolicyPack().startsWith("v3@"));
      assertThat(records(data)).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_POLICY_LOADED && r.getOutcome().equals("OK"))
          .extracting(AuditRecord::getTarget).contains(label1, label2);
    }
  }

  @Test
  void aHostWhosePackFileIsBadKeepsTheLastGoodOneAndWithoutOneRefusesToStart(@TempDir Path temp) throws Exception {
    Path data;
    String key = temp.resolve("policy.key").toString();
    String label1;
    try (TestHost host = new TestHost(Files.createDirectories(temp.resolve("host")))) {
      data = host.dataDir;
      CliCapture.Cli made = CliCapture.run("policy", "new-key", "--name", "policy.test", "--out", key);
      CliCapture.run("policy", "trust", "--data-dir", data.toString(), made.out().strip());
      Path v1 = sign(temp, key, 1, "first", 5);
      assertThat(CliCapture.run("policy", "apply", "--data-dir", data.toString(), v1.toString()).exit()).isZero();
      label1 = CliCapture.run("policy", "verify", "--data-dir", data.toString(), v1.toString()).out().split(" ")[1];
    }
    // Tampered while the host was down: the next host starts on the last good applied pack.
    Path packFile = data.resolve("policy/pack.signed");
    Files.writeString(packFile, Files.readString(packFile).replace("maxSessions: 5", "maxSessions: 50"));
    try (TestHost host = TestHost.onDataDir(data)) {
      String session = host.newSession(host.alphaKey);
      TestHost.Outcome ran = host.exec(host.alphaKey, session, "/bin/true");
      assertThat(startedRecord(data, ran.execId()).getPolicyPack()).isEqualTo(label1);
    }
    // And with no good pack at all, it does not start.
    Files.delete(data.resolve("policy/applied/1.signed"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestHost.onDataDir(data).close())
        .hasMessageContaining("does not start without its policy");
    // Refused before it made anything: no cgroup of this host is left behind.
    String hostRoot = dev.paddock.sandbox.cgroup.CgroupLayout.forDataDir(data).hostRoot();
    for (String controller : List.of("memory", "cpu", "pids", "unified")) {
      assertThat(Path.of("/sys/fs/cgroup", controller, hostRoot)).doesNotExist();
    }
    assertThat(Path.of("/sys/fs/cgroup", hostRoot)).doesNotExist();
  }

  private static Path sign(Path dir, String key, int version, String description, int maxSessions) throws Exception {
    Path yaml = dir.resolve("pack-" + version + ".yaml");
    Files.writeString(yaml, PACK.formatted(version, description, maxSessions), StandardCharsets.UTF_8);
    Path signed = dir.resolve("pack-" + version + ".signed");
    CliCapture.Cli cli = CliCapture.run("policy", "sign", "--key", key, "--out", signed.toString(), yaml.toString());
    assertThat(cli.exit()).as(cli.err()).isZero();
    return signed;
  }

  private static boolean createWithPolicy(TestHost host, String policy) {
    try {
      String id = host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder().setPolicy(policy).build())
          .getSessionId();
      host.sessions(host.alphaKey).closeSession(dev.paddock.ipc.v1.CloseSessionRequest.newBuilder().setSessionId(id).build());
      return true;
    } catch (StatusRuntimeException e) {
      return false;
    }
  }

  private static List<AuditRecord> records(Path data) {
    try {
      return Segments.readAll(data.resolve("audit"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static AuditRecord startedRecord(Path data, String execId) {
    return records(data).stream().filter(r -> r.getAction() == AuditAction.AUDIT_ACTION_EXEC_STARTED
        && r.getTarget().equals(execId)).findFirst().orElseThrow();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 15 s");
      }
      Thread.sleep(100);
    }
  }
}
