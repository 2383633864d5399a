package dev.paddock.runtime.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The tenants file ({@code <data-dir>/tenants.yaml}): tenants and the SHA-256 hashes of their API
 * keys. Never a key itself. Written atomically with mode 0600.
 *
 * <pre>
 * tenants:
 *   - id: demo
 *     maxSessions: 100   # open sessions at once
 *     maxExecs: 32       # running execs at once
 *     keys:
 *       - id: key_0123456789abcdef
 *         name: quickstart
 *         sha256: 5e88...   # of the whole key
 *         created: 2026-11-23T08:00:00Z
 * </pre>
 */
public final class TenantsFile {
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper YAML = new ObjectMapper(
          new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION))
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  /** The whole file. */
  public static final class Document {
    /** Host-wide session and exec settings (HostSettingsSection); absent = the built-in ones. */
    @JsonProperty public java.util.Map<String, String> host;
    @JsonProperty public List<TenantEntry> tenants = new ArrayList<>();
  }

  /** One tenant. */
  public static final class TenantEntry {
    @JsonProperty public String id;
    @JsonProperty public Integer maxSessions;
    @JsonProperty public Integer maxExecs;
    /** Memory of all the tenant's jails together, bytes; absent = three quarters of the host's. */
    @JsonProperty public Long memoryBytes;
    /** Processes of all its jails together; absent = 4096. */
    @JsonProperty public Integer maxProcesses;
    /** CPU of all its jails together, millicores; absent = every core. */
    @JsonProperty public Integer cpuMillicores;
    /** Sessions it may create per minute; absent = no limit. */
    @JsonProperty public Integer sessionsPerMinute;
    /** Execs it may start per minute; absent = no limit. */
    @JsonProperty public Integer execsPerMinute;
    /** Longest session lifetime, as "2h"; absent = the host's maximum. */
    @JsonProperty public String maxSessionLifetime;
    /** Output kept per stream per exec, bytes; absent = the host's. */
    @JsonProperty public Long maxOutputBytes;
    /**
     * Client certificates (mutual TLS) that act for this tenant without an API key: their subject
     * names as RFC 2253 strings, e.g. "CN=planner,O=Acme". Such a caller has the default scopes.
     */
    @JsonProperty public List<String> clientCertificates;
    /** Where its jails may connect; absent = nowhere. */
    @JsonProperty public EgressEntry egress;
    /** Its browsers; absent = the defaults (see BrowserEntry). */
    @JsonProperty public BrowserEntry browser;
    @JsonProperty public List<KeyEntry> keys = new ArrayList<>();
  }

  /**
   * A tenant's egress:
   * <pre>
   * egress:
   *   allow: ["*.pypi.org:443", "files.pythonhosted.org:443"]   # HOST[:PORTS], see EgressRule
   *   deny: ["evil.example.com"]
   *   maxConnections: 64        # open at once, all its sessions together
   *   bytesPerSecond: 0         # both directions together; 0 = no limit
   *   secretHeaders:            # secrets the proxy adds to http:// requests for one host
   *     - secret: API_TOKEN
   *       host: api.example.com
   *       header: Authorization
   *       prefix: "Bearer "
   *       scheme: https         # the proxy sends it on over TLS (the tool asks for http://)
   * </pre>
   */
  public static final class EgressEntry {
    @JsonProperty public List<String> allow;
    @JsonProperty public List<String> deny;
    @JsonProperty public Integer maxConnections;
    @JsonProperty public Long bytesPerSecond;
    @JsonProperty public List<SecretHeaderEntry> secretHeaders;
  }

  /**
   * A tenant's browsers (see BrowserGrant):
   * <pre>
   * browser:
   *   maxOpen: 8            # open at once, all its sessions together
   *   scripts: false        # may its callers evaluate their own JavaScript in a page
   *   minutesPerDay: 0      # browser-minutes per UTC day; 0 = no limit
   *   providers: [local]    # the providers it may use, in order; absent = the host's order
   *   failover: true        # false: only the first provider is tried
   *   formSecrets:          # secrets that may go into password fields, and where
   *     - {secret: SHOP_PASSWORD, origin: "https://shop.example.com"}
   * </pre>
   */
  public static final class BrowserEntry {
    @JsonProperty public Integer maxOpen;
    @JsonProperty public Boolean scripts;
    @JsonProperty public Integer minutesPerDay;
    @JsonProperty public List<String> providers;
    @JsonProperty public Boolean failover;
    @JsonProperty public List<FormSecretEntry> formSecrets;
  }

  /** One secret bound to password fields of one origin. */
  public static final class FormSecretEntry {
    @JsonProperty public String secret;
    @JsonProperty public String origin;
  }

  /** One secret bound to a header for one host. */
  public static final class SecretHeaderEntry {
    @JsonProperty public String secret;
    @JsonProperty public String host;
    @JsonProperty public String header;
    @JsonProperty public String prefix;
    /** "https": the proxy sends the request on over TLS; absent or "http": plain HTTP. */
    @JsonProperty public String scheme;
  }

  /** One API key, by hash. */
  public static final class KeyEntry {
    @JsonProperty public String id;
    @JsonProperty public String name;
    @JsonProperty public String sha256;
    @JsonProperty public String created;
    /** What the key may do (Scope wire names); absent = Scope.DEFAULTS. */
    @JsonProperty public List<String> scopes;
    /** When the key was revoked (ISO-8601); absent = it works. Kept so the id stays known. */
    @JsonProperty public String revoked;
  }

  private TenantsFile() {}

  /**
   * Reads and validates the file; every problem found is in the exception's message, one per line
   * as {@code file:line: field: message}.
   */
  public static Document read(Path file) throws IOException {
    TenantsFileCheck.Result result = TenantsFileCheck.check(YAML, Files.readString(file));
    if (!result.problems().isEmpty()) {
      throw new IOException("tenants file " + file + " is not valid (" + result.problems().size() + " problem"
          + (result.problems().size() == 1 ? "" : "s") + "):\n" + describe(file, result.problems()));
    }
    return result.document();
  }

  /** What can be read of the file, invalid parts left out; null when it does not parse at all. */
  static Document readPartially(Path file) throws IOException {
    return TenantsFileCheck.check(YAML, Files.readString(file)).document();
  }

  /** Every problem of the file at {@code file}, as {@code file:line: field: message} lines; empty when valid. */
  public static List<String> check(Path file) throws IOException {
    return TenantsFileCheck.check(YAML, Files.readString(file)).problems().stream()
        .map(p -> p.describe(file.toString())).toList();
  }

  private static String describe(Path file, List<TenantsFileCheck.Problem> problems) {
    return String.join("\n", problems.stream().map(p -> "  " + p.describe(file.toString())).toList());
  }

  /** The rules beyond types: each problem with its field (a JSON pointer) and no line yet. */
  static List<TenantsFileCheck.Problem> validate(Document doc) {
    List<TenantsFileCheck.Problem> problems = new ArrayList<>();
    if (doc == null || doc.tenants == null) {
      problems.add(new TenantsFileCheck.Problem("", 0, "missing 'tenants'"));
      return problems;
    }
    Set<String> tenantIds = new HashSet<>();
    Set<String> hashes = new HashSet<>();
    Set<String> keyIds = new HashSet<>();
    Set<String> subjects = new HashSet<>();
    for (int i = 0; i < doc.tenants.size(); i++) {
      TenantEntry t = doc.tenants.get(i);
      String at = "/tenants/" + i;
      if (t == null) {
        problems.add(new TenantsFileCheck.Problem(at, 0, "an empty entry"));
        continue;
      }
      try {
        toTenant(t);
      } catch (IllegalArgumentException e) {
        // Tenant's messages start with the field they are about ("maxSessions must be ..."; "tenant id ...").
        String first = e.getMessage().split(" ")[0];
        String field = e.getMessage().startsWith("tenant id") ? "id"
            : e.getMessage().startsWith("egress") ? "egress"
            : e.getMessage().startsWith("browser") ? "browser"
            : java.util.Set.of("maxSessions", "maxExecs", "memoryBytes", "maxProcesses", "cpuMillicores",
                "sessionsPerMinute", "maxSessionLifetime", "maxOutputBytes").contains(first) ? first : "";
        problems.add(new TenantsFileCheck.Problem(field.isEmpty() ? at : at + "/" + field, 0, e.getMessage()));
      }
      if (!tenantIds.add(String.valueOf(t.id))) {
        problems.add(new TenantsFileCheck.Problem(at + "/id", 0, "tenant " + t.id + " is listed twice"));
      }
      List<String> certificates = t.clientCertificates == null ? List.of() : t.clientCertificates;
      for (int c = 0; c < certificates.size(); c++) {
        String subject = certificates.get(c);
        if (subject == null || subject.isBlank()) {
          problems.add(new TenantsFileCheck.Problem(at + "/clientCertificates/" + c, 0, "needs a subject name"));
        } else if (!subjects.add(canonicalSubject(subject))) {
          problems.add(new TenantsFileCheck.Problem(at + "/clientCertificates/" + c, 0,
              "subject " + subject + " is listed twice (a certificate acts for one tenant)"));
        }
      }
      List<KeyEntry> keys = t.keys == null ? List.of() : t.keys;
      for (int k = 0; k < keys.size(); k++) {
        KeyEntry key = keys.get(k);
        String keyAt = at + "/keys/" + k;
        if (key == null) {
          problems.add(new TenantsFileCheck.Problem(keyAt, 0, "an empty entry"));
          continue;
        }
        if (key.sha256 == null || !SHA256_HEX.matcher(key.sha256).matches()) {
          problems.add(new TenantsFileCheck.Problem(keyAt + "/sha256", 0, "needs 64 lowercase hex digits"));
        } else if (!hashes.add(key.sha256)) {
          problems.add(new TenantsFileCheck.Problem(keyAt + "/sha256", 0, "repeats another key's hash"));
        }
        if (key.id == null || key.id.isBlank()) {
          problems.add(new TenantsFileCheck.Problem(keyAt, 0, "a key needs an id"));
        } else if (!keyIds.add(key.id)) {
          problems.add(new TenantsFileCheck.Problem(keyAt + "/id", 0, "key id " + key.id + " is listed twice"));
        }
        List<String> scopes = key.scopes == null ? List.of() : key.scopes;
        for (int j = 0; j < scopes.size(); j++) {
          if (Scope.of(String.valueOf(scopes.get(j))).isEmpty()) {
            problems.add(new TenantsFileCheck.Problem(keyAt + "/scopes/" + j, 0, "unknown scope '" + scopes.get(j)
                + "' (known: " + String.join(", ", java.util.Arrays.stream(Scope.values()).map(Scope::wireName).toList()) + ")"));
          }
        }
      }
    }
    return problems;
  }

  /**
   * A certificate subject as the host compares them: RFC 2253 as javax.security.auth.x500 writes it
   * (so "cn=a, o=b" in the file matches the certificate's "CN=a,O=b"); the text itself when it
   * does not parse as a name.
   */
  static String canonicalSubject(String subject) {
    try {
      return new javax.security.auth.x500.X500Principal(subject).getName(javax.security.auth.x500.X500Principal.CANONICAL);
    } catch (IllegalArgumentException e) {
      return subject;
    }
  }

  /** A key entry's scopes: as listed, or the defaults when none are. */
  static Set<Scope> scopes(KeyEntry k) {
    if (k.scopes == null) {
      return Scope.DEFAULTS;
    }
    Set<Scope> out = java.util.EnumSet.noneOf(Scope.class);
    k.scopes.forEach(s -> Scope.of(s).ifPresent(out::add));
    return out;
  }

  /** The tenant an entry describes, with defaults for unset limits. */
  public static Tenant toTenant(TenantEntry t) {
    return new Tenant(t.id,
        t.maxSessions == null ? Tenant.DEFAULT_MAX_SESSIONS : t.maxSessions,
        t.maxExecs == null ? Tenant.DEFAULT_MAX_EXECS : t.maxExecs,
        t.memoryBytes == null ? 0 : t.memoryBytes,
        t.maxProcesses == null ? 0 : t.maxProcesses,
        t.cpuMillicores == null ? 0 : t.cpuMillicores,
        t.sessionsPerMinute == null ? 0 : t.sessionsPerMinute,
        t.execsPerMinute == null ? 0 : t.execsPerMinute,
        t.maxSessionLifetime == null ? null : lifetime(t.maxSessionLifetime),
        t.maxOutputBytes == null ? 0 : t.maxOutputBytes,
        egress(t.egress),
        browser(t.browser));
  }

  private static BrowserGrant browser(BrowserEntry b) {
    if (b == null) {
      return BrowserGrant.DEFAULTS;
    }
    try {
      return new BrowserGrant(b.maxOpen == null ? BrowserGrant.DEFAULT_MAX_OPEN : b.maxOpen,
          b.scripts != null && b.scripts, b.minutesPerDay == null ? 0 : b.minutesPerDay,
          b.providers == null ? List.of() : b.providers.stream().map(String::valueOf).toList(),
          b.failover == null || b.failover, formSecrets(b.formSecrets));
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(ex.getMessage()); // already starts with "browser"
    }
  }

  private static List<FormSecret> formSecrets(List<FormSecretEntry> entries) {
    List<FormSecret> out = new ArrayList<>();
    for (FormSecretEntry f : entries == null ? List.<FormSecretEntry>of() : entries) {
      if (f == null) {
        throw new IllegalArgumentException("browser formSecrets: an empty entry");
      }
      out.add(new FormSecret(f.secret, f.origin));
    }
    return out;
  }

  private static dev.paddock.runtime.egress.EgressGrant egress(EgressEntry e) {
    if (e == null) {
      return dev.paddock.runtime.egress.EgressGrant.NONE;
    }
    try {
      List<dev.paddock.runtime.egress.HeaderSecret> headers = new ArrayList<>();
      for (SecretHeaderEntry h : e.secretHeaders == null ? List.<SecretHeaderEntry>of() : e.secretHeaders) {
        if (h == null) {
          throw new IllegalArgumentException("secretHeaders: an empty entry");
        }
        if (h.scheme != null && !h.scheme.equals("http") && !h.scheme.equals("https")) {
          throw new IllegalArgumentException("secretHeaders: scheme must be http or https, got " + h.scheme);
        }
        headers.add(new dev.paddock.runtime.egress.HeaderSecret(h.secret, h.host, h.header, h.prefix, "https".equals(h.scheme)));
      }
      return new dev.paddock.runtime.egress.EgressGrant(
          dev.paddock.runtime.egress.EgressRules.parse(e.allow, e.deny, "egress"),
          e.maxConnections == null ? dev.paddock.runtime.egress.EgressGrant.DEFAULT_MAX_CONNECTIONS : e.maxConnections,
          e.bytesPerSecond == null ? 0 : e.bytesPerSecond, headers);
    } catch (IllegalArgumentException ex) {
      String m = ex.getMessage();
      throw new IllegalArgumentException(m.startsWith("egress") ? m : "egress: " + m);
    }
  }

  private static java.time.Duration lifetime(String text) {
    try {
      return dev.paddock.runtime.cli.Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("maxSessionLifetime " + e.getMessage());
    }
  }

  /** Writes {@code doc} atomically (temp file + rename), readable by the owner only. */
  public static void write(Path file, Document doc) throws IOException {
    List<TenantsFileCheck.Problem> problems = validate(doc);
    if (!problems.isEmpty()) {
      throw new IOException("refusing to write an invalid tenants file: " + String.join("; ",
          problems.stream().map(p -> p.describe("tenants")).toList()));
    }
    writeText(file, YAML.writeValueAsString(doc));
  }

  /**
   * Writes {@code text} as the file, atomically, owner-only; refused unless it validates (so a
   * template with comments goes through the same check as a document).
   */
  static void writeText(Path file, String text) throws IOException {
    List<TenantsFileCheck.Problem> problems = TenantsFileCheck.check(YAML, text).problems();
    if (!problems.isEmpty()) {
      throw new IOException("refusing to write an invalid tenants file: " + String.join("; ",
          problems.stream().map(p -> p.describe("tenants")).toList()));
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), ".tenants", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(temp, text);
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
