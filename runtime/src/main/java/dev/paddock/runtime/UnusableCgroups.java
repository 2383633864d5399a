package dev.paddock.runtime;

import dev.paddock.policy.Limits;
import dev.paddock.sandbox.cgroup.Cgroup;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.cgroup.CgroupException;

/**
 * Stands in when the host has no usable cgroups: every sandbox start fails, so the jail probe fails
 * and sessions are refused. Limits that cannot be enforced are never silently skipped.
 */
final class UnusableCgroups implements CgroupDriver {
  private final String why;

  UnusableCgroups(String why) {
    this.why = why;
  }

  @Override
  public Cgroup create(String relativePath, Limits limits) throws CgroupException {
    throw new CgroupException(why);
  }

  @Override
  public void removeTree(String relativePath) {
    // nothing was ever created
  }

  @Override
  public void killAndRemoveTree(String relativePath, dev.paddock.sandbox.linux.LinuxSyscalls linux) {
    // nothing was ever created
  }

  @Override
  public String describe() {
    return "no usable cgroups";
  }
}
