package dev.paddock.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Which calls the client retries, as a gRPC service config: only those that change nothing on the
 * host (or change it the same way twice, like CloseSession), only on UNAVAILABLE. A retried call
 * has a new attempt under the same deadline.
 */
final class Retries {
  /** Methods (service/method) safe to send again. */
  private static final Map<String, List<String>> IDEMPOTENT = Map.of(
      "paddock.v1.SessionService", List.of("GetSession", "ListSessions", "CloseSession", "GetSessionMetrics"),
      "paddock.v1.ExecService", List.of("GetExec", "ListExecs", "GetArtifact"),
      "paddock.v1.FileService", List.of("DownloadFile", "ListFiles", "StatFile"),
      "paddock.v1.BrowserService", List.of("GetBrowser", "ListBrowsers", "CloseBrowser", "Screenshot", "GetContent"),
      "paddock.v1.AuditService", List.of("GetCheckpoint", "GetInclusionProof", "GetConsistencyProof"),
      "paddock.v1.TenantService", List.of("GetTenantUsage"),
      "paddock.v1.SecretService", List.of("ListSecrets"));

  private Retries() {}

  static Map<String, ?> serviceConfig(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    if (maxAttempts == 1) { // gRPC refuses a retry policy of one attempt: none at all
      return Map.of();
    }
    List<Map<String, String>> names = IDEMPOTENT.entrySet().stream()
        .flatMap(s -> s.getValue().stream().map(m -> Map.of("service", s.getKey(), "method", m))).toList();
    Map<String, Object> policy = Map.of(
        "maxAttempts", (double) maxAttempts,
        "initialBackoff", seconds(initialBackoff),
        "maxBackoff", seconds(maxBackoff),
        "backoffMultiplier", 2.0,
        "retryableStatusCodes", List.of("UNAVAILABLE"));
    return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", policy)));
  }

  private static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.3fs", d.toMillis() / 1000.0);
  }
}
