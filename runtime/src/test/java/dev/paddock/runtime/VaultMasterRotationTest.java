package dev.paddock.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.audit.log.Segments;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.runtime.vault.Vault;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaultMasterRotationTest {
  @TempDir Path data;

  @Test
  void theMasterKeyIsReplacedEveryValueStaysReadableAndTheRotationIsRecorded() throws Exception {
    Clock clock = Clock.systemUTC();
    byte[] value = "token-value".getBytes(StandardCharsets.UTF_8);
    Vault before = Vault.openIn(data, null, clock);
    before.put("alpha", "A", value);
    before.put("beta", "B", value);
    String oldKey = Files.readString(data.resolve(Vault.MASTER_KEY_FILE));

    // While a host holds the directory, nothing happens.
    try (DataDirLock host = DataDirLock.acquire(data, data.resolve("host.lock"))) {
      assertThatThrownBy(() -> VaultMasterRotation.rotate(data, clock)).isInstanceOf(IOException.class)
          .hasMessageContaining("stop it first");
    }

    VaultMasterRotation.Result result = VaultMasterRotation.rotate(data, clock);
    assertThat(result.dataKeys()).isEqualTo(2);
    assertThat(result.to()).isNotEqualTo(result.from());
    assertThat(Files.readString(data.resolve(Vault.MASTER_KEY_FILE))).isNotEqualTo(oldKey);
    assertThat(Files.exists(data.resolve(Vault.MASTER_KEY_FILE + ".next"))).isFalse();
    Vault after = Vault.openIn(data, null, clock);
    assertThat(after.reveal("alpha", "A")).isEqualTo(value);
    assertThat(after.reveal("beta", "B")).isEqualTo(value);
    assertThatThrownBy(() -> before.reveal("alpha", "A")).as("the old key opens nothing now").isInstanceOf(IOException.class);
    assertThat(Segments.readAll(data.resolve("audit"))).filteredOn(r -> r.getAction() == AuditAction.AUDIT_ACTION_SECRET_KEY_ROTATED)
        .singleElement().satisfies(r -> {
          assertThat(r.getTarget()).isEqualTo("master");
          assertThat(r.getAttributesMap()).containsEntry("masterKeyId", result.to()).containsEntry("dataKeys", "2");
          assertThat(r.toString()).doesNotContain(oldKey.strip());
        });
  }
}
