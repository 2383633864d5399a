package dev.paddock.runtime.egress;

import dev.paddock.ipc.v1.EgressDenyReason;

/**
 * Why the proxy refused a connection: the reason, a sentence for people, and the address when the
 * refusal came after resolution. Never carries anything secret.
 */
public record Denial(EgressDenyReason reason, String detail, String address) {
  static Denial of(EgressDenyReason reason, String detail) {
    return new Denial(reason, detail, "");
  }

  /** The reason's name without its prefix, as audit outcomes and HTTP replies show it. */
  public String reasonName() {
    return reason.name().substring("EGRESS_DENY_REASON_".length());
  }
}
