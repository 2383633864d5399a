package dev.paddock.browser;

import java.util.Objects;

/**
 * What a browser is for.
 *
 * @param tenant the tenant it belongs to
 * @param task   the task (a session id, or the caller's task id) it belongs to; it dies with it
 */
public record BrowserRequest(String tenant, String task) {
  public BrowserRequest {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(task, "task");
  }
}
