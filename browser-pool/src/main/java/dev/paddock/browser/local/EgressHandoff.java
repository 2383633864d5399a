package dev.paddock.browser.local;

import dev.paddock.browser.BrowserRequest;
import dev.paddock.sandbox.jail.EgressListeners;

/**
 * Who serves a browser jail's way out: the host's egress proxy, under the browser's session's
 * allow-lists. Given the jail's listeners; returns what stops serving them (called when the browser
 * closes).
 */
@FunctionalInterface
public interface EgressHandoff {
  AutoCloseable serve(BrowserRequest request, String browserId, EgressListeners listeners);

  /** No way out: the listeners are closed, so every connection is refused at once. */
  EgressHandoff NONE = (request, browserId, listeners) -> {
    listeners.close();
    return () -> {};
  };
}
