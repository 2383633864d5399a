package dev.paddock.runtime.audit;

import dev.paddock.runtime.tenant.Principal;
import io.grpc.Context;

/**
 * Who is calling, in the gRPC {@link Context} of each call: the request id (set first, by the
 * request-id interceptor) and the authenticated principal (set by authentication). Audit records
 * take their tenant, actor and request ids from here, wherever in the host they are written.
 */
public final class AuditContext {
  /** The host's request id of the call. */
  public static final Context.Key<String> REQUEST_ID = Context.key("paddock-request-id");
  /** The id the caller sent in x-request-id, when it was well-formed (and so became the request id). */
  public static final Context.Key<String> CLIENT_REQUEST_ID = Context.key("paddock-client-request-id");
  /** The authenticated caller. */
  public static final Context.Key<Principal> PRINCIPAL = Context.key("paddock-principal");

  private AuditContext() {}

  /** The actor string of a principal: "key:<key id>" or, for a client certificate, "cert:<subject>". */
  public static String actor(Principal principal) {
    if (principal == null) {
      return "";
    }
    return principal.keyId().startsWith("cert:") ? principal.keyId() : "key:" + principal.keyId();
  }
}
