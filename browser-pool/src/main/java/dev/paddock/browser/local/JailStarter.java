package dev.paddock.browser.local;

import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.SandboxSetupException;
import dev.paddock.sandbox.jail.Jail;
import dev.paddock.sandbox.jail.WorkspaceLimits;

/**
 * Starts a browser's jail the way the host starts a session's: in a cgroup under its tenant's,
 * so the tenant's kernel budgets hold its browsers too. A warm browser, started before anyone asks
 * for it, has no tenant ({@code tenant} null): its jail is in a group of the host's own.
 */
@FunctionalInterface
public interface JailStarter {
  Jail start(String id, String tenant, SandboxPolicy policy, WorkspaceLimits workspace) throws SandboxSetupException;
}
