package dev.paddock.runtime.egress;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the proxy's decisions and bytes for one tenant: every connection is counted once, as
 * allowed or as denied with its reason.
 */
public final class EgressCounters {
  private final LongAdder allowed = new LongAdder();
  private final Map<dev.paddock.ipc.v1.EgressDenyReason, LongAdder> denied = new EnumMap<>(dev.paddock.ipc.v1.EgressDenyReason.class);
  private final LongAdder bytesOut = new LongAdder();
  private final LongAdder bytesIn = new LongAdder();

  EgressCounters() {
    for (dev.paddock.ipc.v1.EgressDenyReason r : dev.paddock.ipc.v1.EgressDenyReason.values()) {
      if (r != dev.paddock.ipc.v1.EgressDenyReason.UNRECOGNIZED) {
        denied.put(r, new LongAdder());
      }
    }
  }

  void allowed() {
    allowed.increment();
  }

  void denied(dev.paddock.ipc.v1.EgressDenyReason reason) {
    denied.get(reason).increment();
  }

  /** {@code count} more refusals for {@code reason} (the ones too many to report one by one). */
  void denied(dev.paddock.ipc.v1.EgressDenyReason reason, long count) {
    denied.get(reason).add(count);
  }

  void moved(long out, long in) {
    bytesOut.add(out);
    bytesIn.add(in);
  }

  /** Connections allowed so far. */
  public long allowedCount() {
    return allowed.sum();
  }

  /** Connections denied so far for {@code reason}. */
  public long deniedCount(dev.paddock.ipc.v1.EgressDenyReason reason) {
    return denied.get(reason).sum();
  }

  /** Connections denied so far, every reason. */
  public long deniedCount() {
    return denied.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** Bytes from jails to destinations. */
  public long bytesOut() {
    return bytesOut.sum();
  }

  /** Bytes from destinations to jails. */
  public long bytesIn() {
    return bytesIn.sum();
  }
}
