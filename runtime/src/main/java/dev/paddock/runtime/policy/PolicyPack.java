package dev.paddock.runtime.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.IpcOperation;
import dev.paddock.policy.PolicyBuilder;
import dev.paddock.policy.PolicyException;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.policy.Syscall;
import dev.paddock.runtime.tenant.Tenant;
import dev.paddock.runtime.tenant.TenantsFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A policy pack: the operator's sandbox policies, and every tenant's budgets, egress lists and
 * secret bindings, as one YAML document that is signed (see {@link PackSignatures}) and versioned.
 * While a pack is in force it is the one authority for all of those; the tenants file keeps only
 * tenants and their keys.
 *
 * <pre>
 * format: paddock-policy-pack/v1
 * version: 7                        # each pack applied must have a higher version than the last
 * description: "allow PyPI for demo"
 * policies:                         # sandbox policies sessions may name, beside default and isolated
 *   ci:
 *     base: isolated                # default | isolated
 *     readOnlyMounts: [/opt/tools]  # more host directories, read-only
 *     killSyscalls: [ptrace]        # more syscalls that kill the process
 *     ipc: [progress, artifacts]    # IPC operations allowed (added to the base's)
 *     secretsInJail: false          # may execs get secrets as variables
 * tenants:
 *   demo:                           # any field of a tenants.yaml entry but id, keys, certificates
 *     maxSessions: 20
 *     egress:
 *       allow: ["pypi.org:443", "files.pythonhosted.org:443"]
 * </pre>
 *
 * @param version     the pack's version, 1 or more
 * @param description free text, may be empty
 * @param sha256      SHA-256 of the pack's text, hex
 * @param policies    the pack's sandbox policies by name
 * @param tenants     each tenant's settings
 */
public record PolicyPack(long version, String description, String sha256, Map<String, SandboxPolicy> policies,
    Map<String, Tenant> tenants) {
  /** The value of {@code format} this version reads. */
  public static final String FORMAT = "paddock-policy-pack/v1";
  private static final Pattern POLICY_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");
  private static final Set<String> BUILT_IN = Set.of("default", "isolated");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION))
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  public PolicyPack {
    policies = Map.copyOf(policies);
    tenants = Map.copyOf(tenants);
  }

  /** How audit records and logs name the pack: {@code v7@sha256:<first 16 hex digits>}. */
  public String label() {
    return "v" + version + "@sha256:" + sha256.substring(0, 16);
  }

  /** The whole document. */
  static final class Document {
    @JsonProperty public String format;
    @JsonProperty public Long version;
    @JsonProperty public String description;
    @JsonProperty public Map<String, PolicyEntry> policies;
    @JsonProperty public Map<String, TenantsFile.TenantEntry> tenants;
  }

  /** One sandbox policy. */
  static final class PolicyEntry {
    @JsonProperty public String base;
    @JsonProperty public List<String> readOnlyMounts;
    @JsonProperty public List<String> killSyscalls;
    @JsonProperty public List<String> ipc;
    @JsonProperty public Boolean secretsInJail;
  }

  /**
   * Reads a pack's text (the part that is signed); IllegalArgumentException says what is wrong,
   * naming the field.
   */
  public static PolicyPack parse(String text) {
    Document doc;
    try {
      doc = YAML.readValue(text, Document.class);
    } catch (JsonProcessingException e) {
      // Only the parser's first line: the rest may quote the text.
      throw new IllegalArgumentException("not a policy pack: " + String.valueOf(e.getOriginalMessage()).split("\n")[0]);
    }
    if (doc == null || !FORMAT.equals(doc.format)) {
      throw new IllegalArgumentException("format: must be " + FORMAT);
    }
    if (doc.version == null || doc.version < 1) {
      throw new IllegalArgumentException("version: must be a whole number, 1 or more");
    }
    Map<String, SandboxPolicy> policies = new LinkedHashMap<>();
    if (doc.policies != null) {
      for (Map.Entry<String, PolicyEntry> e : doc.policies.entrySet()) {
        policies.put(policyName(e.getKey()), policy(e.getKey(), e.getValue()));
      }
    }
    Map<String, Tenant> tenants = new LinkedHashMap<>();
    if (doc.tenants != null) {
      for (Map.Entry<String, TenantsFile.TenantEntry> e : doc.tenants.entrySet()) {
        TenantsFile.TenantEntry t = e.getValue() == null ? new TenantsFile.TenantEntry() : e.getValue();
        String at = "tenants." + e.getKey();
        if (t.id != null || (t.keys != null && !t.keys.isEmpty()) || t.clientCertificates != null) {
          throw new IllegalArgumentException(at + ": id, keys and clientCertificates belong in the tenants file, not a pack");
        }
        t.id = e.getKey();
        try {
          tenants.put(e.getKey(), TenantsFile.toTenant(t));
        } catch (IllegalArgumentException ex) {
          throw new IllegalArgumentException(at + ": " + ex.getMessage());
        }
      }
    }
    return new PolicyPack(doc.version, doc.description == null ? "" : doc.description, sha256(text), policies, tenants);
  }

  private static String policyName(String name) {
    if (!POLICY_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("policies." + name + ": a policy name is 1-128 characters of [a-z0-9._-]");
    }
    if (BUILT_IN.contains(name)) {
      throw new IllegalArgumentException("policies." + name + ": the built-in policies cannot be replaced; give it another name");
    }
    return name;
  }

  private static SandboxPolicy policy(String name, PolicyEntry p) {
    String at = "policies." + name;
    if (p == null || p.base == null) {
      throw new IllegalArgumentException(at + ".base: is required (default or isolated)");
    }
    PolicyBuilder b = switch (p.base) {
      case "default" -> DefaultPolicies.toolBuilder();
      case "isolated" -> DefaultPolicies.isolatedBuilder();
      default -> throw new IllegalArgumentException(at + ".base: must be default or isolated, got " + p.base);
    };
    for (String mount : p.readOnlyMounts == null ? List.<String>of() : p.readOnlyMounts) {
      if (mount == null || !mount.startsWith("/") || mount.contains("..")) {
        throw new IllegalArgumentException(at + ".readOnlyMounts: an absolute path without '..', got " + mount);
      }
      b.mountReadOnlyIfExists(Path.of(mount));
    }
    for (String syscall : p.killSyscalls == null ? List.<String>of() : p.killSyscalls) {
      try {
        b.killOn(Syscall.valueOf(String.valueOf(syscall).toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(at + ".killSyscalls: unknown syscall " + syscall);
      }
    }
    for (String op : p.ipc == null ? List.<String>of() : p.ipc) {
      try {
        b.allowIpc(IpcOperation.valueOf(String.valueOf(op).toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(at + ".ipc: unknown IPC operation " + op);
      }
    }
    if (Boolean.TRUE.equals(p.secretsInJail)) {
      b.allowSecretsInJail();
    }
    try {
      return b.build();
    } catch (PolicyException e) {
      throw new IllegalArgumentException(at + ": " + e.getMessage());
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
