package dev.paddock.sandbox.cgroup;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The one place that names Paddock's cgroups: {@code paddock/h-<host>/t-<tenant>/<session>}.
 *
 * <p>{@code <host>} is derived from the host's data directory, so two hosts on one machine (each
 * with its own data directory, which each locks) never share a subtree, and a restarted host can
 * kill and remove everything a previous run of itself left, without touching another host's groups.
 * Limits set on a tenant's group hold for all its sessions (the kernel enforces them
 * hierarchically).
 */
public final class CgroupLayout {
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  private final String hostRoot;

  private CgroupLayout(String hostRoot) {
    this.hostRoot = hostRoot;
  }

  /** The layout of the host whose data directory is {@code dataDir}. */
  public static CgroupLayout forDataDir(Path dataDir) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(dataDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
      return new CgroupLayout("paddock/h-" + HexFormat.of().formatHex(digest, 0, 6));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Everything of this host. */
  public String hostRoot() {
    return hostRoot;
  }

  /**
   * A tenant's group, parent of its sessions. It stays for the host's life, also while the tenant
   * has no session (its ready jail lives there between sessions, and removing it would race with
   * a session being created below it); it goes with the host's subtree when the host closes, or at
   * the next start.
   */
  public String tenant(String tenantId) {
    return hostRoot + "/t-" + check(tenantId);
  }

  /** A session's group: its jail and every process in it. */
  public String session(String tenantId, String sessionId) {
    return tenant(tenantId) + "/" + check(sessionId);
  }

  /**
   * A group for a browser started before any tenant asked for it (a warm pool's): the host's, with
   * the browser jail's own limits; the tenant that claims it counts it by number and minutes.
   */
  public String warm(String id) {
    return hostRoot + "/warm-" + check(id);
  }

  /** A group for the host's own jail probe. */
  public String probe(String id) {
    return hostRoot + "/probe-" + check(id);
  }

  private static String check(String segment) {
    if (!SEGMENT.matcher(segment).matches()) {
      throw new IllegalArgumentException("not a cgroup name segment: " + segment);
    }
    return segment;
  }
}
