package dev.paddock.runtime.egress;

import java.io.IOException;

/** A proxy request that cannot be served as asked; carries the denial to report. */
class ProxyRefusal extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient Denial denial;

  ProxyRefusal(Denial denial) {
    super(denial.detail());
    this.denial = denial;
  }

  Denial denial() {
    return denial;
  }

  /** A request that is malformed or of a kind the proxy does not serve. */
  static class BadRequest extends ProxyRefusal {
    private static final long serialVersionUID = 1L;

    BadRequest(String detail) {
      super(Denial.of(dev.paddock.ipc.v1.EgressDenyReason.EGRESS_DENY_REASON_BAD_REQUEST, detail));
    }
  }
}
