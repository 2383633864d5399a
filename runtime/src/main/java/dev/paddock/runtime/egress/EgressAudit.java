package dev.paddock.runtime.egress;

import dev.paddock.runtime.session.Session;

/** Where the proxy's decisions are recorded (the audit log). Never given a secret's value. */
public interface EgressAudit {
  /** Records nothing: for tests of the proxy alone. */
  EgressAudit NONE = new EgressAudit() {};

  /**
   * A connection was refused; called before the tool is answered, and returns once the record is
   * durable. {@code execId} is "" unless exactly one exec was running.
   */
  default void denied(Session session, String execId, ProxyTarget target, Denial denial) {}

  /** An allowed connection ended, having moved these bytes. */
  default void connectionClosed(Session session, String execId, ProxyTarget target, String address, long bytesOut, long bytesIn) {}

  /** The proxy added {@code secret} as {@code header} to a request for {@code host}; before it is sent. */
  default void headerSecretUsed(Session session, String execId, String secret, String host, String header) {}
}
