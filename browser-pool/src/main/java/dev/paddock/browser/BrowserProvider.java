package dev.paddock.browser;

/**
 * Where browsers come from: a local Chromium in a Paddock jail, a remote DevTools service, a
 * container. One browser per request, never handed to a second task.
 */
public interface BrowserProvider {
  /** The provider's name in the operator's config, logs and breaker events. */
  String name();

  /**
   * True when its browsers' pages reach the network only through the host's egress proxy, under
   * the tenant's allow-list (a local Chromium in a jail). False for a remote service, whose pages
   * leave from its own network: the host gives such a provider only to tenants the operator names
   * it for.
   */
  default boolean confined() {
    return true;
  }

  /**
   * A fresh browser for {@code request}.
   *
   * @throws ProviderException.Quota when the provider answers that it is at its quota (a 429): not
   *     its failure, and the request goes to the next provider
   * @throws ProviderException when it fails (crashed, unreachable, timed out, a bad answer)
   */
  Browser acquire(BrowserRequest request) throws ProviderException;
}
