package dev.paddock.runtime.tenant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.runtime.Ids;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.testing.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TenantDirectoryTest {
  private static final Instant START = Instant.parse("2026-11-23T00:00:00Z");
  @TempDir Path temp;

  @Test
  void onlyTheHashIsStoredAndTheKeyMapsToItsTenant() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    ManualClock clock = new ManualClock(START);
    ApiKeys.NewKey key = new TenantAdmin(file, clock).createDemoIfMissing().orElseThrow();
    String stored = Files.readString(file);
    assertThat(stored).doesNotContain(key.key()).contains(ApiKeys.sha256Hex(key.key()));
    assertThat(Files.getPosixFilePermissions(file)).hasSize(2); // rw-------
    assertThat(key.toString()).doesNotContain(key.key());

    TenantDirectory dir = new TenantDirectory(file, clock);
    assertThat(dir.authenticate(key.key())).isEqualTo(new Principal("demo", key.keyId()));
    assertThatThrownBy(() -> dir.authenticate(key.key() + "x")).isInstanceOf(PaddockException.Unauthenticated.class);
    assertThatThrownBy(() -> dir.authenticate(null)).isInstanceOf(PaddockException.Unauthenticated.class);
    assertThat(new TenantAdmin(file, clock).createDemoIfMissing()).isEmpty();
  }

  @Test
  void rotationReplacesTheNamedKeyAndARunningDirectoryNotices() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    ManualClock clock = new ManualClock(START);
    TenantAdmin admin = new TenantAdmin(file, clock);
    ApiKeys.NewKey first = admin.rotateKey("acme", "ci");
    TenantDirectory dir = new TenantDirectory(file, clock);
    assertThat(dir.authenticate(first.key()).tenantId()).isEqualTo("acme");

    ApiKeys.NewKey second = admin.rotateKey("acme", "ci");
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().plusSeconds(5)));
    clock.advance(java.time.Duration.ofSeconds(2));
    assertThat(dir.authenticate(second.key()).tenantId()).isEqualTo("acme");
    assertThatThrownBy(() -> dir.authenticate(first.key())).isInstanceOf(PaddockException.Unauthenticated.class);
  }

  @Test
  void aBrokenFileRefusesToStartAndABrokenChangeKeepsTheLastGoodOne() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    Files.writeString(file, "tenants:\n  - id: Bad_Id\n    keys: [{id: k, sha256: nothex}]\n");
    assertThatThrownBy(() -> new TenantDirectory(file, Clock.systemUTC()))
        .hasMessageContaining("tenant id must be").hasMessageContaining("64 lowercase hex");
    Files.writeString(file, "tenants: [ {id: ok, unknownField: 1} ]\n");
    assertThatThrownBy(() -> new TenantDirectory(file, Clock.systemUTC())).hasMessageContaining("unknownField");

    ManualClock clock = new ManualClock(START);
    Files.delete(file);
    ApiKeys.NewKey key = new TenantAdmin(file, clock).rotateKey("acme", "ci");
    TenantDirectory dir = new TenantDirectory(file, clock);
    String good = Files.readString(file);
    // A hand edit that revokes the key but breaks the file: refused as a whole, the last good file holds.
    Files.writeString(file, good.replace("name: \"ci\"", "name: \"ci\"\n    revoked: [oops]") + "  -\n");
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().plusSeconds(3)));
    clock.advance(java.time.Duration.ofSeconds(2));
    assertThat(dir.authenticate(key.key()).tenantId()).isEqualTo("acme");
    Files.writeString(file, "tenants: [ this is : not yaml");
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().plusSeconds(5)));
    clock.advance(java.time.Duration.ofSeconds(2));
    assertThat(dir.authenticate(key.key()).tenantId()).isEqualTo("acme");
    // Fixed: the change lands.
    Files.writeString(file, good);
    new TenantAdmin(file, clock).revokeKey("acme", key.keyId());
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().plusSeconds(9)));
    clock.advance(java.time.Duration.ofSeconds(2));
    assertThatThrownBy(() -> dir.authenticate(key.key())).isInstanceOf(PaddockException.Unauthenticated.class);
  }

  @Test
  void aTenantsBrowserSettingsAreReadAndCheckedField() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    Files.writeString(file, String.join("\n",
        "tenants:",
        "  - id: acme",
        "    browser: {maxOpen: 2, scripts: true, minutesPerDay: 90, providers: [remote, local], failover: false,",
        "              formSecrets: [{secret: SHOP_PASSWORD, origin: 'https://Shop.example.com:443'}]}",
        "  - id: plain",
        ""));
    var doc = TenantsFile.read(file);
    assertThat(TenantsFile.toTenant(doc.tenants.get(0)).browser())
        .isEqualTo(new BrowserGrant(2, true, 90, java.util.List.of("remote", "local"), false,
            java.util.List.of(new FormSecret("SHOP_PASSWORD", "https://shop.example.com"))));
    assertThat(TenantsFile.toTenant(doc.tenants.get(1)).browser()).isEqualTo(BrowserGrant.DEFAULTS);

    Files.writeString(file, String.join("\n",
        "tenants:",
        "  - id: acme",
        "    browser:",
        "      scripts: yes please",
        "      failover: false",
        "      speed: 11",
        "      formSecrets:",
        "        - {secret: PW, origin: 'https://shop.example.com', page: 1}",
        ""));
    assertThat(TenantsFile.check(file)).containsExactlyInAnyOrder(
        file + ":6: tenants[0].browser.speed: unknown field (known: failover, formSecrets, maxOpen, minutesPerDay, providers,"
            + " scripts)",
        file + ":8: tenants[0].browser.formSecrets[0].page: unknown field (known: origin, secret)",
        file + ":4: tenants[0].browser.scripts: must be true or false",
        file + ":3: tenants[0].browser: browser failover: false needs the pinned provider in providers");
  }

  @Test
  void everyProblemIsReportedAtOnceWithItsLineAndField() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    Files.writeString(file, String.join("\n",
        "tenants:",
        "  - id: acme",
        "    maxSessions: lots",
        "    colour: blue",
        "    keys:",
        "      - id: key_1",
        "        sha256: " + "a".repeat(64),
        "        scopes: [exec, root]",
        ""));
    assertThat(TenantsFile.check(file)).containsExactly(
        file + ":4: tenants[0].colour: unknown field (known: browser, clientCertificates, cpuMillicores, egress, execsPerMinute, id, keys,"
            + " maxExecs, maxOutputBytes, maxProcesses, maxSessionLifetime, maxSessions, memoryBytes, sessionsPerMinute)",
        file + ":3: tenants[0].maxSessions: must be a whole number up to 2147483647",
        file + ":8: tenants[0].keys[0].scopes[1]: unknown scope 'root' (known: sessions, exec, files, browser, audit:read, secrets, admin)");
    assertThatThrownBy(() -> TenantsFile.read(file)).hasMessageContaining("(3 problems)").hasMessageContaining(":8: ");
  }

  @Test
  void idsCarry128RandomBits() {
    String id = Ids.newId("ses");
    assertThat(id).matches("ses_[0-9a-f]{32}");
    assertThat(HexFormat.of().parseHex(id.substring(4))).hasSize(16);
    assertThat(Ids.newId("ses")).isNotEqualTo(id);
  }

  @Test
  void scopedKeysAreListedWithoutSecretsAndARevokedKeyStopsWithinASecond() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    ManualClock clock = new ManualClock(START);
    TenantAdmin admin = new TenantAdmin(file, clock);
    ApiKeys.NewKey files = admin.createKey("acme", "uploader", java.util.EnumSet.of(Scope.FILES));
    ApiKeys.NewKey planner = admin.createKey("acme", "planner", null);
    assertThatThrownBy(() -> admin.createKey("acme", "planner", null)).hasMessageContaining("already has a key named planner");
    TenantDirectory dir = new TenantDirectory(file, clock);
    assertThat(dir.authenticate(files.key()).scopes()).containsExactly(Scope.FILES);
    assertThat(dir.authenticate(planner.key()).scopes()).isEqualTo(Scope.DEFAULTS).doesNotContain(Scope.ADMIN);
    assertThat(Scope.allows(java.util.Set.of(Scope.ADMIN), Scope.AUDIT_READ)).isTrue();

    assertThat(admin.listKeys("acme")).extracting(TenantAdmin.KeyInfo::name).containsExactly("uploader", "planner");
    assertThat(admin.listKeys("acme").toString()).doesNotContain(files.key()).doesNotContain(ApiKeys.sha256Hex(files.key()));

    assertThat(admin.revokeKey("acme", files.keyId())).isTrue();
    assertThat(admin.revokeKey("acme", files.keyId())).isFalse();
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    clock.advance(java.time.Duration.ofSeconds(1));
    assertThatThrownBy(() -> dir.authenticate(files.key())).isInstanceOf(PaddockException.Unauthenticated.class);
    assertThat(dir.authenticate(planner.key()).tenantId()).isEqualTo("acme");
    assertThat(admin.listKeys("acme").get(0).revoked()).isNotNull();
    // Its name is free again; rotating keeps a name's scopes.
    ApiKeys.NewKey again = admin.createKey("acme", "uploader", java.util.EnumSet.of(Scope.FILES, Scope.EXEC));
    ApiKeys.NewKey rotated = admin.rotateKey("acme", "uploader");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(10)));
    clock.advance(java.time.Duration.ofSeconds(1));
    assertThatThrownBy(() -> dir.authenticate(again.key())).isInstanceOf(PaddockException.Unauthenticated.class);
    assertThat(dir.authenticate(rotated.key()).scopes()).containsExactlyInAnyOrder(Scope.FILES, Scope.EXEC);
  }

  @Test
  void anUnknownScopeMakesTheFileInvalid() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    new TenantAdmin(file, new ManualClock(START)).createKey("acme", "k", java.util.EnumSet.of(Scope.EXEC));
    Files.writeString(file, Files.readString(file).replace("- \"exec\"", "- \"root\"").replace("- exec", "- root"));
    assertThatThrownBy(() -> TenantsFile.read(file)).hasMessageContaining("unknown scope 'root'");
  }

  @Test
  void aRefusedChangeStillStopsTheKeysItRevokesAndAMissingFileStopsThemAll() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    ManualClock clock = new ManualClock(START);
    TenantAdmin admin = new TenantAdmin(file, clock);
    ApiKeys.NewKey leaked = admin.createKey("acme", "leaked", null);
    ApiKeys.NewKey other = admin.createKey("acme", "other", null);
    TenantDirectory dir = new TenantDirectory(file, clock);
    // The operator revokes the leaked key by hand, and makes a typo elsewhere in the same edit.
    String edited = Files.readString(file)
        .replace("name: \"leaked\"", "name: \"leaked\"\n    revoked: \"2026-11-26T00:00:00Z\"")
        .replace("maxSessions: 100", "maxSessions: lots");
    Files.writeString(file, edited);
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().plusSeconds(3)));
    clock.advance(java.time.Duration.ofSeconds(2));
    assertThatThrownBy(() -> dir.authenticate(leaked.key())).isInstanceOf(PaddockException.Unauthenticated.class);
    assertThat(dir.authenticate(other.key()).tenantId()).isEqualTo("acme");
    assertThat(dir.tenant("acme").orElseThrow().maxSessions()).isEqualTo(100); // the last good budgets hold

    Files.delete(file);
    clock.advance(java.time.Duration.ofSeconds(2));
    assertThatThrownBy(() -> dir.authenticate(other.key())).isInstanceOf(PaddockException.Unauthenticated.class);
  }

  @Test
  void oddFilesAreRefusedWithAReasonNotMisread() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    String hash = "b".repeat(64);
    Files.writeString(file, String.join("\n",
        "tenants:",
        "  - id: acme",
        "    maxSessions: 99999999999",
        "    maxSessions: 3",
        ""));
    assertThat(TenantsFile.check(file)).singleElement().asString().contains("Duplicate field 'maxSessions'");
    Files.writeString(file, String.join("\n",
        "tenants:",
        "  - id: acme",
        "    maxSessions: 99999999999",
        "    keys:",
        "      - {id: key_1, sha256: " + hash + ", revoked: }",
        "      - {id: key_1, sha256: " + "c".repeat(64) + "}",
        ""));
    assertThat(TenantsFile.check(file)).containsExactlyInAnyOrder(
        file + ":3: tenants[0].maxSessions: must be a whole number up to 2147483647",
        file + ":5: tenants[0].keys[0].revoked: has no value (remove the line, or give one)",
        file + ":6: tenants[0].keys[1].id: key id key_1 is listed twice");
    Files.writeString(file, "tenants: []\n---\ntenants: [{id: sneaky}]\n");
    assertThat(TenantsFile.check(file)).singleElement().asString().contains("not valid YAML");
    Files.writeString(file, "tenants:\n  - id: acme\n    maxSessions: 0\n");
    assertThat(TenantsFile.check(file)).containsExactly(file + ":3: tenants[0].maxSessions: maxSessions must be at least 1 for tenant acme");
    Files.writeString(file, "tenants: [ {id: acme, keys: [pdk_0123_secretsecret : x ]\n");
    assertThat(TenantsFile.check(file)).singleElement().asString().doesNotContain("secretsecret");
  }

  @Test
  void theDefaultFileIsCommentedValidAndItsHostSectionTakesEffect() throws Exception {
    Path file = temp.resolve("tenants.yaml");
    ManualClock clock = new ManualClock(START);
    ApiKeys.NewKey key = new TenantAdmin(file, clock).createDemoIfMissing().orElseThrow();
    String text = Files.readString(file);
    assertThat(text).startsWith("# Paddock operator configuration").contains("#   maxExecTimeout: 1h")
        .contains("# execsPerMinute: 600").doesNotContain(key.key());
    assertThat(TenantsFile.check(file)).isEmpty();
    TenantDirectory dir = new TenantDirectory(file, clock);
    assertThat(dir.authenticate(key.key()).tenantId()).isEqualTo("demo");
    dev.paddock.runtime.session.SessionSettings defaults = dev.paddock.runtime.session.SessionSettings.defaults();
    assertThat(dir.hostSettings(defaults)).isEqualTo(defaults);

    Files.writeString(file, text.replace("# host:", "host:").replace("#   maxExecTimeout: 1h", "  maxExecTimeout: 30s")
        .replace("#   defaultExecTimeout: 60s", "  defaultExecTimeout: 20s").replace("#   replayBytes: 256Ki", "  replayBytes: 64Ki"));
    Files.setLastModifiedTime(file, FileTime.from(clock.instant().plusSeconds(3)));
    clock.advance(java.time.Duration.ofSeconds(2));
    int[] reloads = {0};
    dir.onReload(() -> reloads[0]++);
    dev.paddock.runtime.session.SessionSettings changed = dir.hostSettings(defaults);
    assertThat(changed.maxExecTimeout()).hasSeconds(30);
    assertThat(changed.defaultExecTimeout()).hasSeconds(20);
    assertThat(changed.replayBytes()).isEqualTo(64 * 1024);
    assertThat(changed.maxLifetime()).isEqualTo(defaults.maxLifetime());
    assertThat(reloads[0]).isEqualTo(1);

    String bad = Files.readString(file).replace("  maxExecTimeout: 30s", "  maxExecTimeout: soon")
        .replace("  replayBytes: 64Ki", "  replayBytes: 64Ki\n  colour: blue");
    Files.writeString(file, bad);
    assertThat(TenantsFile.check(file)).hasSize(2)
        .anyMatch(p -> p.contains("host.maxExecTimeout") && p.matches(".*:\\d+: .*"))
        .anyMatch(p -> p.contains("host.colour: unknown field"));
    Files.writeString(file, text.replace("# host:", "host:").replace("#   maxExecTimeout: 1h", "  maxExecTimeout: 30s"));
    assertThat(TenantsFile.check(file)).singleElement().asString()
        .contains("defaultExecTimeout (1m) is more than maxExecTimeout (30s)");
  }
}
