package dev.paddock.runtime.tenant;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A tenant's browsers, as the operator set them.
 *
 * @param maxOpen       browsers it may have open at once, all its sessions together. Default 8.
 * @param scripts       whether its callers may evaluate their own JavaScript in a page
 *                      (BrowserService.Evaluate). Default false: navigation, clicks, typing,
 *                      screenshots and page content only.
 * @param minutesPerDay browser-minutes it may use per UTC day, all its browsers together (a browser
 *                      counts from its creation to its close); once used up, no new browser starts
 *                      and its open ones are closed. 0 = no limit (the default).
 * @param providers     the providers it may use, in the order its requests try them; empty = the
 *                      host's order (the default)
 * @param failover      false: only the first of {@code providers} is tried (the tenant pinned it).
 *                      Default true.
 * @param formSecrets   its secrets that may be put into password fields, and on which origins.
 *                      Default none.
 */
public record BrowserGrant(int maxOpen, boolean scripts, int minutesPerDay, List<String> providers, boolean failover,
    List<FormSecret> formSecrets) {
  public static final int DEFAULT_MAX_OPEN = 8;
  public static final BrowserGrant DEFAULTS = new BrowserGrant(DEFAULT_MAX_OPEN, false, 0, List.of(), true, List.of());
  private static final Pattern PROVIDER = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  public BrowserGrant {
    if (maxOpen < 0 || maxOpen > 1000) {
      throw new IllegalArgumentException("browser maxOpen must be 0..1000");
    }
    if (minutesPerDay < 0 || minutesPerDay > 1440 * 1000) {
      throw new IllegalArgumentException("browser minutesPerDay must be 0 (no limit) to 1440000");
    }
    providers = List.copyOf(providers);
    for (String p : providers) {
      if (!PROVIDER.matcher(p).matches()) {
        throw new IllegalArgumentException("browser providers: '" + p + "' is not a provider name ([a-z0-9-])");
      }
    }
    if (providers.stream().distinct().count() != providers.size()) {
      throw new IllegalArgumentException("browser providers: a provider is listed twice");
    }
    if (!failover && providers.isEmpty()) {
      throw new IllegalArgumentException("browser failover: false needs the pinned provider in providers");
    }
    formSecrets = List.copyOf(formSecrets);
  }

  /** The origins whose password fields may get {@code secret}; empty when it has no binding. */
  public List<String> formOrigins(String secret) {
    return formSecrets.stream().filter(f -> f.secret().equals(secret)).map(FormSecret::origin).distinct().toList();
  }
}
