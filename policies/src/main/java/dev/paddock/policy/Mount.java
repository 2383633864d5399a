package dev.paddock.policy;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A host path made visible inside the sandbox.
 *
 * @param hostPath    absolute path on the host
 * @param sandboxPath absolute path inside the sandbox
 * @param writable    false for a read-only bind mount (the default for system paths)
 * @param optional    true when a missing host path is skipped instead of failing the setup
 */
public record Mount(Path hostPath, Path sandboxPath, boolean writable, boolean optional) {
  public Mount {
    Objects.requireNonNull(hostPath, "hostPath");
    Objects.requireNonNull(sandboxPath, "sandboxPath");
  }
}
