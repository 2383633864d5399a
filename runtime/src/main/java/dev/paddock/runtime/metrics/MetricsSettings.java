package dev.paddock.runtime.metrics;

import java.net.InetSocketAddress;

/**
 * Where the host serves its metrics for Prometheus, and what they may name.
 *
 * @param address      the HTTP address of {@code /metrics}; null = no endpoint (the default of an
 *                     embedded host; {@code paddock serve} listens on 127.0.0.1:9464 unless told
 *                     {@code --metrics off})
 * @param tenantLabels whether meters carry the tenant's id as a label. Default false: one series
 *                     per tenant per meter adds up with many tenants; the value is then "_all"
 */
public record MetricsSettings(InetSocketAddress address, boolean tenantLabels) {
  /** No endpoint, no tenant labels. */
  public static final MetricsSettings OFF = new MetricsSettings(null, false);
}
