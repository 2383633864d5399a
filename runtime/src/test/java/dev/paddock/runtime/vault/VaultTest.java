package dev.paddock.runtime.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.testing.ManualClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaultTest {
  private static final byte[] TOKEN = "ghp_s3cr3tTokenValue0123456789".getBytes(StandardCharsets.UTF_8);

  @TempDir Path temp;
  MasterKey master;
  Vault vault;

  /** Moved by hand: rotation by age without waiting 90 days. */
  final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

  @BeforeEach
  void open() throws IOException {
    master = MasterKey.readOrCreate(temp.resolve("master.key"));
    vault = new Vault(temp.resolve("vault"), master, clock);
  }

  private String fileText(String tenant) throws IOException {
    return Files.readString(temp.resolve("vault").resolve(tenant + ".json"));
  }

  @Test
  void aValueIsStoredEncryptedAndOnlyRevealedToTheHost() throws Exception {
    Vault.SecretInfo info = vault.put("alpha", "GITHUB_TOKEN", TOKEN);
    assertThat(info.version()).isEqualTo(1);
    assertThat(vault.reveal("alpha", "GITHUB_TOKEN")).isEqualTo(TOKEN);
    assertThat(vault.put("alpha", "GITHUB_TOKEN", "other".getBytes(StandardCharsets.UTF_8)).version()).isEqualTo(2);

    String onDisk = fileText("alpha");
    assertThat(onDisk).doesNotContain("s3cr3t").doesNotContain(Base64.getEncoder().encodeToString(TOKEN));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(temp.resolve("vault/alpha.json"))))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(temp.resolve("master.key"))))
        .isEqualTo("rw-------");
    Vault.Listing listing = vault.list("alpha");
    assertThat(listing.secrets()).singleElement().satisfies(s -> {
      assertThat(s.name()).isEqualTo("GITHUB_TOKEN");
      assertThat(s.toString()).doesNotContain("s3cr3t");
    });
    assertThat(vault.list("beta").secrets()).isEmpty();
    assertThatThrownBy(() -> vault.reveal("beta", "GITHUB_TOKEN")).isInstanceOf(PaddockException.class)
        .satisfies(e -> assertThat(((PaddockException) e).reason()).isEqualTo(ErrorReason.SECRET_NOT_FOUND));
  }

  @Test
  void badNamesAndValuesAreRefused() {
    assertThatThrownBy(() -> vault.put("alpha", "../x", TOKEN)).isInstanceOf(PaddockException.class);
    assertThatThrownBy(() -> vault.put("alpha", "", TOKEN)).isInstanceOf(PaddockException.class);
    assertThatThrownBy(() -> vault.put("alpha", "OK", new byte[0])).isInstanceOf(PaddockException.class);
    assertThatThrownBy(() -> vault.put("alpha", "OK", new byte[Vault.MAX_VALUE_BYTES + 1])).isInstanceOf(PaddockException.class);
  }

  @Test
  void aChangedOrMovedCiphertextIsRefusedNotUsed() throws Exception {
    vault.put("alpha", "A", "value-a".getBytes(StandardCharsets.UTF_8));
    vault.put("alpha", "B", "value-b".getBytes(StandardCharsets.UTF_8));
    Path file = temp.resolve("vault/alpha.json");
    ObjectMapper json = new ObjectMapper();
    ObjectNode doc = (ObjectNode) json.readTree(file.toFile());
    // B's ciphertext put under A: a valid ciphertext, but bound to another name.
    ObjectNode secrets = (ObjectNode) doc.get("secrets");
    ((ObjectNode) secrets.get("A")).put("ciphertext", secrets.get("B").get("ciphertext").asText());
    json.writeValue(file.toFile(), doc);
    assertThatThrownBy(() -> vault.reveal("alpha", "A")).isInstanceOf(IOException.class).hasMessageContaining("moved");
    assertThat(vault.reveal("alpha", "B")).isEqualTo("value-b".getBytes(StandardCharsets.UTF_8));

    // One byte of B's ciphertext flipped.
    byte[] sealed = Base64.getDecoder().decode(secrets.get("B").get("ciphertext").asText());
    sealed[sealed.length - 1] ^= 1;
    ((ObjectNode) secrets.get("B")).put("ciphertext", Base64.getEncoder().encodeToString(sealed));
    json.writeValue(file.toFile(), doc);
    assertThatThrownBy(() -> vault.reveal("alpha", "B")).isInstanceOf(IOException.class).hasMessageContaining("changed");
  }

  @Test
  void rotatingTheDataKeyReencryptsEverySecret() throws Exception {
    vault.put("alpha", "A", "value-a".getBytes(StandardCharsets.UTF_8));
    vault.put("alpha", "B", "value-b".getBytes(StandardCharsets.UTF_8));
    String before = vault.list("alpha").dataKeyId();
    String ciphertextBefore = fileText("alpha");
    Vault.Rotation rotation = vault.rotate("alpha");
    assertThat(rotation.secrets()).isEqualTo(2);
    assertThat(rotation.dataKeyId()).isNotEqualTo(before).startsWith("dk_");
    assertThat(fileText("alpha")).doesNotContain(before);
    assertThat(fileText("alpha")).isNotEqualTo(ciphertextBefore);
    assertThat(vault.reveal("alpha", "A")).isEqualTo("value-a".getBytes(StandardCharsets.UTF_8));
    assertThat(vault.list("alpha").secrets()).allMatch(s -> s.dataKeyId().equals(rotation.dataKeyId()));
  }

  @Test
  void dataKeysPastTheRotationPeriodAreRotated() throws Exception {
    vault.put("alpha", "A", TOKEN);
    clock.advance(Duration.ofDays(30));
    vault.put("beta", "B", TOKEN);
    clock.advance(Duration.ofDays(61)); // alpha's key is 91 days old, beta's 61
    java.util.List<Vault.Rotation> told = new java.util.ArrayList<>();
    assertThat(vault.rotateDue(Vault.DEFAULT_ROTATION, told::add)).extracting(Vault.Rotation::tenant).containsExactly("alpha");
    assertThat(told).extracting(Vault.Rotation::tenant).containsExactly("alpha");
    assertThat(vault.rotateDue(Vault.DEFAULT_ROTATION, r -> {})).isEmpty();
    assertThat(vault.reveal("alpha", "A")).isEqualTo(TOKEN);
  }

  @Test
  void theMasterKeyCanBeRotatedAndAnotherKeyOpensNothing() throws Exception {
    vault.put("alpha", "A", TOKEN);
    MasterKey other = MasterKey.create(temp.resolve("other.key"));
    Vault withOther = new Vault(temp.resolve("vault"), other, clock);
    assertThatThrownBy(() -> withOther.reveal("alpha", "A")).isInstanceOf(IOException.class)
        .hasMessageContaining(master.id());
    assertThat(vault.rewrap(other)).isEqualTo(1);
    assertThat(withOther.reveal("alpha", "A")).isEqualTo(TOKEN);
    assertThatThrownBy(() -> vault.reveal("alpha", "A")).isInstanceOf(IOException.class);
  }

  @Test
  void aMasterKeyOthersMayReadIsRefused() throws Exception {
    Path key = temp.resolve("loose.key");
    MasterKey.create(key);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> MasterKey.read(key)).isInstanceOf(IOException.class).hasMessageContaining("chmod 600");
    assertThat(MasterKey.readOrCreate(temp.resolve("master.key")).id()).isEqualTo(master.id());
    assertThat(master.toString()).doesNotContain(Files.readString(temp.resolve("master.key")).strip());
  }

  @Test
  void aHostGivenAnotherMasterKeyThanItsSecretsAreUnderDoesNotStart() throws Exception {
    Vault own = Vault.openIn(temp, null, clock);
    own.put("alpha", "A", TOKEN);
    MasterKey given = MasterKey.fromBase64(Base64.getEncoder().encodeToString(new byte[32]), "PADDOCK_VAULT_MASTER_KEY");
    assertThatThrownBy(() -> Vault.openIn(temp, given, clock)).isInstanceOf(IOException.class)
        .hasMessageContaining(given.id());
    MasterKey same = MasterKey.read(temp.resolve(Vault.MASTER_KEY_FILE));
    assertThat(Vault.openIn(temp, same, clock).reveal("alpha", "A")).isEqualTo(TOKEN);
    assertThatThrownBy(() -> MasterKey.fromBase64("not-base64-s3cr3t!", "PADDOCK_VAULT_MASTER_KEY"))
        .isInstanceOf(IOException.class).satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3t"));
    assertThatThrownBy(() -> new VaultConfig(null, Duration.ofHours(1))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anOlderCiphertextPutBackOrAKeyAgeEditedIsRefused() throws Exception {
    vault.put("alpha", "A", "first".getBytes(StandardCharsets.UTF_8));
    Path file = temp.resolve("vault/alpha.json");
    ObjectMapper json = new ObjectMapper();
    String first = json.readTree(file.toFile()).get("secrets").get("A").get("ciphertext").asText();
    vault.put("alpha", "A", "second".getBytes(StandardCharsets.UTF_8));
    ObjectNode doc = (ObjectNode) json.readTree(file.toFile());
    ((ObjectNode) doc.get("secrets").get("A")).put("ciphertext", first); // version 2 with version 1's ciphertext
    json.writeValue(file.toFile(), doc);
    assertThatThrownBy(() -> vault.reveal("alpha", "A")).isInstanceOf(IOException.class);

    vault.put("beta", "B", TOKEN);
    Path betaFile = temp.resolve("vault/beta.json");
    ObjectNode beta = (ObjectNode) json.readTree(betaFile.toFile());
    beta.put("dataKeyCreated", "2099-01-01T00:00:00Z"); // so that it would never be rotated
    json.writeValue(betaFile.toFile(), beta);
    assertThatThrownBy(() -> vault.reveal("beta", "B")).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> vault.reveal("beta", "../../x")).isInstanceOf(PaddockException.class);
    assertThatThrownBy(() -> vault.delete("beta", "bad name")).isInstanceOf(PaddockException.class);
  }

  @Test
  void aTenantsSecretsAreCappedInAllAndAnotherTenantIsNotHeldUp() throws Exception {
    byte[] big = new byte[Vault.MAX_VALUE_BYTES];
    int fit = Vault.MAX_TENANT_VALUE_BYTES / Vault.MAX_VALUE_BYTES;
    for (int i = 0; i < fit; i++) {
      vault.put("alpha", "S" + i, big);
    }
    vault.put("alpha", "S0", big); // replacing a value does not count it twice
    assertThatThrownBy(() -> vault.put("alpha", "ONE_MORE", new byte[1])).isInstanceOf(PaddockException.class)
        .satisfies(e -> assertThat(((PaddockException) e).reason()).isEqualTo(ErrorReason.SECRET_LIMIT_REACHED));
    assertThat(vault.put("beta", "B", TOKEN).version()).isEqualTo(1);
  }
}
