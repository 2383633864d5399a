package dev.paddock.runtime.tenant;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * What an API key may do. Each gRPC service needs one scope; {@link #ADMIN} stands for all of them
 * (and, in later versions, for acting on other tenants). A key created without scopes gets
 * {@link #DEFAULTS}: everything a planner needs, nothing an operator does.
 */
public enum Scope {
  /** SessionService: create, get, list, refresh, close sessions. */
  SESSIONS("sessions"),
  /** ExecService: run, attach to, signal and list execs; artifacts. */
  EXEC("exec"),
  /** FileService: the session workspace's files. */
  FILES("files"),
  /** BrowserService. */
  BROWSER("browser"),
  /** AuditService: reading the tenant's audit log. */
  AUDIT_READ("audit:read"),
  /** SecretService: writing, listing, rotating and deleting the tenant's secrets (never reading a value). Not a default. */
  SECRETS("secrets"),
  /** Every scope, and operator calls. */
  ADMIN("admin");

  /** A key's scopes when none are given. */
  public static final Set<Scope> DEFAULTS = EnumSet.of(SESSIONS, EXEC, FILES, BROWSER, AUDIT_READ);

  private final String wireName;

  Scope(String wireName) {
    this.wireName = wireName;
  }

  /** The name in the tenants file, on the command line and in errors ("audit:read"). */
  public String wireName() {
    return wireName;
  }

  /** The scope named {@code name} (as {@link #wireName()}). */
  public static Optional<Scope> of(String name) {
    for (Scope s : values()) {
      if (s.wireName.equals(name)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** True when a key with {@code granted} may use {@code needed}. */
  public static boolean allows(Set<Scope> granted, Scope needed) {
    return granted.contains(ADMIN) || granted.contains(needed);
  }
}
