package dev.paddock.runtime.egress;

import dev.paddock.ipc.v1.EgressDenyReason;
import java.net.InetAddress;
import java.util.List;

/**
 * What one session's jail may reach: the tenant's lists, narrowed by the session's own, and the
 * operator's address ranges that special addresses may be reached in. Decided in two steps, by the
 * name first (before anything is resolved) and then by every address the name resolved to.
 *
 * @param tenant    the tenant's allow- and deny-lists
 * @param session   the session's; an empty allow-list leaves the tenant's alone
 * @param reachable special addresses (private, loopback, ...) the operator lets jails reach
 */
public record EgressPolicy(EgressRules tenant, EgressRules session, List<AddressRange> reachable) {
  public EgressPolicy {
    reachable = List.copyOf(reachable);
  }

  /**
   * The first step, by what the tool asked for: null when it may go on to resolution (or, for a
   * raw address, to {@link #checkAddress}), else the denial.
   *
   * @param host a lower-case name without trailing dot, or an address literal
   * @param literal the address when {@code host} is a literal, else null
   */
  public Denial checkRequest(String host, InetAddress literal, int port) {
    if (literal != null) {
      EgressRule deny = denyingAddress(literal, port);
      if (deny != null) {
        return Denial.of(EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED, host + ":" + port + " is denied by '" + deny + "'");
      }
      if (tenant.allowingAddress(literal, port) == null
          || (!session.allow().isEmpty() && session.allowingAddress(literal, port) == null)) {
        return Denial.of(EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED, "no allow-list entry covers the address "
            + host + ":" + port + " (raw addresses need an address entry)");
      }
      return null;
    }
    EgressRule deny = tenant.denyingName(host, port);
    deny = deny != null ? deny : session.denyingName(host, port);
    if (deny != null) {
      return Denial.of(EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED, host + ":" + port + " is denied by '" + deny + "'");
    }
    if (tenant.allowingName(host, port) == null) {
      return Denial.of(EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED, "no allow-list entry of the tenant covers " + host + ":" + port);
    }
    if (!session.allow().isEmpty() && session.allowingName(host, port) == null) {
      return Denial.of(EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED, "no allow-list entry of the session covers " + host + ":" + port);
    }
    return null;
  }

  /**
   * The second step, for each address the connection may go to: deny-listed ranges, then special
   * addresses outside the operator's reachable ranges. Null when it may connect.
   */
  public Denial checkAddress(InetAddress address, int port) {
    String shown = address.getHostAddress();
    EgressRule deny = denyingAddress(address, port);
    if (deny != null) {
      return new Denial(EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED, shown + " is denied by '" + deny + "'", shown);
    }
    String special = SpecialAddresses.kind(address);
    if (special != null && reachable.stream().noneMatch(r -> r.contains(address))) {
      return new Denial(EgressDenyReason.EGRESS_DENY_REASON_PRIVATE_ADDRESS,
          "the destination resolved to " + shown + ", a " + special + " address the operator has not made reachable", shown);
    }
    return null;
  }

  private EgressRule denyingAddress(InetAddress address, int port) {
    EgressRule deny = tenant.denyingAddress(address, port);
    return deny != null ? deny : session.denyingAddress(address, port);
  }
}
