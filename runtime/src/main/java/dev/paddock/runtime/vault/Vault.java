package dev.paddock.runtime.vault;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.paddock.audit.log.DurableFiles;
import dev.paddock.ipc.v1.ErrorReason;
import dev.paddock.runtime.Ids;
import dev.paddock.runtime.errors.PaddockException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Tenants' secrets at rest: each value encrypted with AES-256-GCM under its tenant's data key, each
 * data key encrypted (wrapped) under the host's {@link MasterKey}. One file per tenant,
 * {@code <dir>/<tenant>.json}, 0600, replaced atomically on every change.
 *
 * <p>Every ciphertext is bound to where it belongs by its associated data (tenant, name, data key
 * id; tenant and data key id for a wrapped key), so a value moved to another name or tenant, or a
 * file edited, fails to decrypt instead of being used. A value leaves this class only through
 * {@link #reveal}, for the host's own use; no API returns one. Thread-safe: a tenant's calls are
 * serialised, different tenants' run side by side.
 */
public final class Vault {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Vault.class);
  /** Longest value, bytes. */
  public static final int MAX_VALUE_BYTES = 64 * 1024;
  /** Most secrets one tenant may hold. */
  public static final int MAX_SECRETS = 1000;
  /** Data keys older than this are replaced by {@link #rotateDue} unless the operator sets another period. */
  public static final Duration DEFAULT_ROTATION = Duration.ofDays(90);

  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,127}");
  private static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final int NONCE_BYTES = Aead.NONCE_BYTES;
  private static final int TAG_BITS = Aead.TAG_BITS;
  private static final ObjectMapper JSON = new ObjectMapper()
      .setSerializationInclusion(JsonInclude.Include.NON_NULL)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  /** Most bytes of values one tenant may hold in all (its file is read and rewritten whole on each change). */
  public static final int MAX_TENANT_VALUE_BYTES = 4 << 20;

  private final Path dir;
  private final KeyWrapper master;
  /** One lock per tenant: a tenant's calls are serialised, other tenants' are not held up by them. */
  private final java.util.concurrent.ConcurrentHashMap<String, Object> locks = new java.util.concurrent.ConcurrentHashMap<>();
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  /** A tenant's file. Field names are the file format. */
  static final class TenantFile {
    public int format = 1;
    public String dataKeyId;
    /** base64(nonce || AES-GCM(data key)) under the master key. */
    public String wrappedDataKey;
    public String masterKeyId;
    /** ISO-8601, as Instant.toString writes it. */
    public String dataKeyCreated;
    public TreeMap<String, StoredSecret> secrets = new TreeMap<>();
  }

  /** One secret in a tenant's file. */
  static final class StoredSecret {
    public long version;
    /** ISO-8601, as Instant.toString writes it. */
    public String created;
    public String updated;
    /** base64(nonce || AES-GCM(value)) under the tenant's data key. */
    public String ciphertext;
  }

  /** What may be said about a secret: everything but its value. */
  public record SecretInfo(String name, long version, Instant created, Instant updated, String dataKeyId) {}

  /** A tenant's secrets and its data key. */
  public record Listing(List<SecretInfo> secrets, String dataKeyId, Instant dataKeyCreated) {}

  /** The outcome of a data key rotation. */
  public record Rotation(String tenant, String dataKeyId, int secrets) {}

  /** Directory of the tenants' files under a data directory. */
  public static final String DIR = "vault";
  /** The master key file under a data directory (the embedded default makes it on first start). */
  public static final String MASTER_KEY_FILE = "vault-master.key";

  /**
   * The vault of {@code dataDir}, under {@code master}, or under the data directory's own key (made
   * if missing) when null. Refuses (the host must not start) when a tenant's data key is wrapped
   * under another master key: its secrets could not be used.
   */
  public static Vault openIn(Path dataDir, KeyWrapper master, Clock clock) throws IOException {
    KeyWrapper key = master == null ? MasterKey.readOrCreate(dataDir.resolve(MASTER_KEY_FILE)) : master;
    Vault vault = new Vault(dataDir.resolve(DIR), key, clock);
    for (String tenant : vault.tenants()) {
      TenantFile file = vault.read(tenant);
      if (file.dataKeyId != null && !key.id().equals(file.masterKeyId)) {
        throw new IOException("the secrets of tenant " + tenant + " are under master key " + file.masterKeyId
            + ", not the configured " + key.id() + "; give the host the key they are under");
      }
    }
    return vault;
  }

  public Vault(Path dir, KeyWrapper master, Clock clock) throws IOException {
    this.dir = dir;
    this.master = master;
    this.clock = clock;
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** Stores {@code value} as {@code name} of {@code tenant}, replacing an earlier value. */
  public SecretInfo put(String tenant, String name, byte[] value) throws IOException {
    synchronized (lockOf(tenant)) {
      checkName(name);
      if (value.length == 0 || value.length > MAX_VALUE_BYTES) {
        throw new PaddockException.InvalidArgument("value", "a secret's value is 1 to " + MAX_VALUE_BYTES + " bytes");
      }
      TenantFile file = read(tenant);
      StoredSecret secret = file.secrets.get(name);
      if (valueBytes(file, name) + value.length > MAX_TENANT_VALUE_BYTES) {
        throw new PaddockException.ResourceExhausted(ErrorReason.SECRET_LIMIT_REACHED,
            "the tenant's secrets would pass " + MAX_TENANT_VALUE_BYTES + " bytes in all, the most the host keeps", "secretBytes",
            Map.of("limit", Integer.toString(MAX_TENANT_VALUE_BYTES)));
      }
      if (secret == null && file.secrets.size() >= MAX_SECRETS) {
        throw new PaddockException.ResourceExhausted(ErrorReason.SECRET_LIMIT_REACHED,
            "the tenant holds " + MAX_SECRETS + " secrets, the most the host keeps", "secrets",
            Map.of("limit", Integer.toString(MAX_SECRETS)));
      }
      byte[] dataKey = file.dataKeyId == null ? newDataKey(tenant, file) : unwrap(tenant, file);
      Instant now = clock.instant();
      if (secret == null) {
        secret = new StoredSecret();
        secret.created = now.toString();
        file.secrets.put(name, secret);
      }
      secret.version++;
      secret.updated = now.toString();
      secret.ciphertext = seal(dataKey, value, valueContext(tenant, name, secret.version, file.dataKeyId));
      java.util.Arrays.fill(dataKey, (byte) 0);
      write(tenant, file);
      return info(name, secret, file);
    }
  }

  /** The tenant's secrets, by name, without values. */
  public Listing list(String tenant) throws IOException {
    synchronized (lockOf(tenant)) {
      TenantFile file = read(tenant);
      List<SecretInfo> out = new ArrayList<>();
      file.secrets.forEach((name, secret) -> out.add(info(name, secret, file)));
      return new Listing(out, file.dataKeyId == null ? "" : file.dataKeyId, instant(file.dataKeyCreated));
    }
  }

  /** Deletes {@code name}; throws NOT_FOUND / SECRET_NOT_FOUND when the tenant has none. */
  public void delete(String tenant, String name) throws IOException {
    synchronized (lockOf(tenant)) {
      checkName(name);
      TenantFile file = read(tenant);
      if (file.secrets.remove(name) == null) {
        throw notFound(name);
      }
      write(tenant, file);
    }
  }

  /**
   * The value of {@code name}, for the host's own use (a secret bound to an exec). Never returned by
   * an API. The caller clears the array when done.
   */
  public byte[] reveal(String tenant, String name) throws IOException {
    synchronized (lockOf(tenant)) {
      checkName(name);
      TenantFile file = read(tenant);
      StoredSecret secret = file.secrets.get(name);
      if (secret == null) {
        throw notFound(name);
      }
      byte[] dataKey = unwrap(tenant, file);
      try {
        return open(dataKey, secret.ciphertext, valueContext(tenant, name, secret.version, file.dataKeyId));
      } finally {
        java.util.Arrays.fill(dataKey, (byte) 0);
      }
    }
  }

  /** Replaces the tenant's data key: every value re-encrypted under a new one, the old one gone. */
  public Rotation rotate(String tenant) throws IOException {
    synchronized (lockOf(tenant)) {
      TenantFile file = read(tenant);
      if (file.dataKeyId == null) {
        java.util.Arrays.fill(newDataKey(tenant, file), (byte) 0);
        write(tenant, file);
        return new Rotation(tenant, file.dataKeyId, 0);
      }
      byte[] oldKey = unwrap(tenant, file);
      String oldId = file.dataKeyId;
      Map<String, byte[]> values = new TreeMap<>();
      byte[] newKey = null;
      try {
        for (Map.Entry<String, StoredSecret> e : file.secrets.entrySet()) {
          values.put(e.getKey(), open(oldKey, e.getValue().ciphertext,
              valueContext(tenant, e.getKey(), e.getValue().version, oldId)));
        }
        newKey = newDataKey(tenant, file);
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
          StoredSecret secret = file.secrets.get(e.getKey());
          secret.ciphertext = seal(newKey, e.getValue(), valueContext(tenant, e.getKey(), secret.version, file.dataKeyId));
        }
      } finally {
        values.values().forEach(v -> java.util.Arrays.fill(v, (byte) 0));
        java.util.Arrays.fill(oldKey, (byte) 0);
        if (newKey != null) {
          java.util.Arrays.fill(newKey, (byte) 0);
        }
      }
      write(tenant, file);
      return new Rotation(tenant, file.dataKeyId, values.size());
    }
  }

  /**
   * Rotates every tenant's data key older than {@code period}, telling {@code rotated} of each as it
   * is done (so each is recorded even if a later one fails); a tenant whose file cannot be used is
   * logged and skipped, and the others go on. Returns what it rotated.
   */
  public List<Rotation> rotateDue(Duration period, java.util.function.Consumer<Rotation> rotated)
      throws IOException {
    List<Rotation> done = new ArrayList<>();
    Instant cutoff = clock.instant().minus(period);
    for (String tenant : tenants()) {
      try {
        TenantFile file;
        synchronized (lockOf(tenant)) {
          file = read(tenant);
        }
        if (file.dataKeyCreated != null && instant(file.dataKeyCreated).isBefore(cutoff)) {
          Rotation rotation = rotate(tenant);
          done.add(rotation);
          rotated.accept(rotation);
        }
      } catch (IOException | RuntimeException e) {
        log.error("vault: the data key of tenant {} is due for rotation but could not be rotated: {}", tenant, e.getMessage());
      }
    }
    return done;
  }

  /**
   * Re-wraps every tenant's data key under {@code next} (master key rotation); values are not
   * touched. Returns how many data keys were re-wrapped.
   */
  public int rewrap(KeyWrapper next) throws IOException {
    int count = 0;
    for (String tenant : tenants()) {
      synchronized (lockOf(tenant)) {
        TenantFile file = read(tenant);
        if (file.dataKeyId == null || next.id().equals(file.masterKeyId)) {
          continue; // nothing to wrap, or wrapped under the next key already (a rotation cut short)
        }
        byte[] dataKey = unwrap(tenant, file);
        file.wrappedDataKey = next.wrap(dataKey, keyContext(tenant, file.dataKeyId, file.dataKeyCreated));
        file.masterKeyId = next.id();
        java.util.Arrays.fill(dataKey, (byte) 0);
        write(tenant, file);
        count++;
      }
    }
    return count;
  }

  /** Tenants that have a file here. */
  public List<String> tenants() throws IOException {
    List<String> out = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (name.endsWith(".json") && TENANT.matcher(name.substring(0, name.length() - 5)).matches()) {
          out.add(name.substring(0, name.length() - 5));
        }
      }
    }
    out.sort(null);
    return out;
  }

  // ---- internals ----

  private Object lockOf(String tenant) {
    return locks.computeIfAbsent(tenant, t -> new Object());
  }

  /** Bytes of values a tenant holds, from their ciphertexts (nonce and tag taken off). */
  private static long valueBytes(TenantFile file, String except) {
    long total = 0;
    for (Map.Entry<String, StoredSecret> e : file.secrets.entrySet()) {
      String text = e.getValue().ciphertext;
      if (!e.getKey().equals(except) && text != null) {
        long padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
        total += Math.max(0, text.length() * 3L / 4 - padding - NONCE_BYTES - TAG_BITS / 8);
      }
    }
    return total;
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new PaddockException.InvalidArgument("name",
          "a secret's name is 1-128 of A-Z, a-z, 0-9, '_', '.', '-', starting with a letter");
    }
  }

  private static PaddockException notFound(String name) {
    return new PaddockException.NotFound(ErrorReason.SECRET_NOT_FOUND, "no secret with this name", Map.of("name", name));
  }

  private SecretInfo info(String name, StoredSecret secret, TenantFile file) {
    return new SecretInfo(name, secret.version, instant(secret.created), instant(secret.updated), file.dataKeyId);
  }

  private static Instant instant(String iso) {
    return iso == null ? null : Instant.parse(iso);
  }

  private byte[] newDataKey(String tenant, TenantFile file) {
    byte[] key = new byte[32];
    random.nextBytes(key);
    file.dataKeyId = Ids.newId("dk");
    file.dataKeyCreated = clock.instant().toString();
    file.masterKeyId = master.id();
    file.wrappedDataKey = master.wrap(key, keyContext(tenant, file.dataKeyId, file.dataKeyCreated));
    return key;
  }

  private byte[] unwrap(String tenant, TenantFile file) throws IOException {
    if (!master.id().equals(file.masterKeyId)) {
      throw new IOException("the secrets of tenant " + tenant + " are under master key " + file.masterKeyId
          + ", not this host's " + master.id() + " (give the host that key; after a master key rotation cut short, run paddock secrets rotate-master again)");
    }
    return master.unwrap(file.wrappedDataKey, keyContext(tenant, file.dataKeyId, file.dataKeyCreated));
  }

  /** A value is bound to its tenant, name, version and data key: an older ciphertext put back is refused. */
  private static byte[] valueContext(String tenant, String name, long version, String dataKeyId) {
    return ("paddock-secret\0" + tenant + "\0" + name + "\0" + version + "\0" + dataKeyId).getBytes(StandardCharsets.UTF_8);
  }

  /** A data key is bound to its tenant, id and creation time: its age cannot be edited to dodge rotation. */
  private static byte[] keyContext(String tenant, String dataKeyId, String created) {
    return ("paddock-data-key\0" + tenant + "\0" + dataKeyId + "\0" + created).getBytes(StandardCharsets.UTF_8);
  }

  private String seal(byte[] key, byte[] plain, byte[] context) {
    return Aead.seal(key, plain, context);
  }

  private static byte[] open(byte[] key, String sealedText, byte[] context) throws IOException {
    return Aead.open(key, sealedText, context);
  }

  private Path fileOf(String tenant) {
    if (!TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException("not a tenant id: " + tenant);
    }
    return dir.resolve(tenant + ".json");
  }

  private TenantFile read(String tenant) throws IOException {
    Path file = fileOf(tenant);
    if (!Files.exists(file)) {
      return new TenantFile();
    }
    try {
      return JSON.readValue(file.toFile(), TenantFile.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      // The parser's message may quote the file: say where, not what.
      throw new IOException("the vault file of tenant " + tenant + " is malformed (line "
          + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
    }
  }

  /** Replaces the tenant's file atomically and durably, 0600. */
  private void write(String tenant, TenantFile content) throws IOException {
    DurableFiles.replace(fileOf(tenant), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(content),
        DurableFiles.OWNER_ONLY);
  }
}
