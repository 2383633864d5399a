package dev.paddock.runtime.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.audit.note.NoteSigner;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's own audit signing key (paddock serve --audit-signing-key, paddock audit new-key). */
class AuditSigningKeyTest {
  @TempDir
  Path temp;

  private static void recordOne(AuditTrail trail) throws Exception {
    trail.append(AuditRecord.newBuilder().setAction(AuditAction.AUDIT_ACTION_CONFIG_LOADED).setActor("host")
        .setOutcome("OK")).get(10, TimeUnit.SECONDS);
  }

  @Test
  void checkpointsAreSignedWithTheOperatorsKey() throws Exception {
    Path keyFile = temp.resolve("audit.key");
    NoteSigner made = AuditTrail.newSigningKey("audit.example.com/paddock", keyFile);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
    assertThatThrownBy(() -> AuditTrail.newSigningKey("audit.example.com/paddock", keyFile))
        .isInstanceOf(FileAlreadyExistsException.class);

    Path data = Files.createDirectory(temp.resolve("data"));
    try (AuditTrail trail = AuditTrail.open(data, null, keyFile, Clock.systemUTC())) {
      recordOne(trail);
    }
    assertThat(Files.exists(data.resolve(AuditTrail.SIGNING_KEY_FILE))).as("no key of its own made").isFalse();
    assertThat(Files.readString(data.resolve(AuditTrail.VERIFIER_KEY_FILE)).strip()).isEqualTo(made.verifierKey());
    String checkpoint = Files.readString(data.resolve("audit").resolve("checkpoint"));
    assertThat(NoteVerifier.parse(made.verifierKey()).open(checkpoint)).startsWith("audit.example.com/paddock\n1\n");

    // Another key on the same log: its latest checkpoint no longer verifies, so the host would not start.
    Path other = temp.resolve("other.key");
    AuditTrail.newSigningKey("audit.example.com/paddock", other);
    assertThatThrownBy(() -> AuditTrail.open(data, null, other, Clock.systemUTC()).close())
        .isInstanceOf(IOException.class).hasMessageContaining("does not verify");
  }

  @Test
  void aKeyOthersMayReadOrThatIsNotAKeyIsRefused() throws Exception {
    Path keyFile = temp.resolve("audit.key");
    AuditTrail.newSigningKey("audit.example.com/paddock", keyFile);
    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
    Path data = Files.createDirectory(temp.resolve("data"));
    assertThatThrownBy(() -> AuditTrail.open(data, null, keyFile, Clock.systemUTC()))
        .isInstanceOf(IOException.class).hasMessageContaining("chmod 600");

    Path garbage = temp.resolve("garbage.key");
    Files.createFile(garbage, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(garbage, "s3cr3t-not-a-key");
    assertThatThrownBy(() -> AuditTrail.open(data, null, garbage, Clock.systemUTC()))
        .isInstanceOf(IOException.class).hasMessageContaining("not a signed-note signing key")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3t"));
  }
}
