package dev.paddock.runtime;

import dev.paddock.audit.log.DurableFiles;
import dev.paddock.runtime.audit.AuditTrail;
import dev.paddock.runtime.vault.MasterKey;
import dev.paddock.runtime.vault.Vault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;

/**
 * Replaces a data directory's vault master key while no host serves it: every tenant's data key is
 * re-wrapped under a new master key, which then takes the old one's place, and the rotation is
 * recorded in the directory's audit log. Values are not touched. Safe to run again after a stop
 * part-way: the new key waits beside the old one until every data key is under it.
 */
public final class VaultMasterRotation {
  /** What a rotation did. */
  public record Result(String from, String to, int dataKeys) {}

  private VaultMasterRotation() {}

  /** Rotates the master key of {@code dataDir}; refuses while a host holds the directory. */
  public static Result rotate(Path dataDir, Clock clock) throws IOException {
    try (DataDirLock lock = DataDirLock.acquire(dataDir, dataDir.resolve("host.lock"))) {
      Path current = dataDir.resolve(Vault.MASTER_KEY_FILE);
      Path next = dataDir.resolve(Vault.MASTER_KEY_FILE + ".next");
      if (!Files.exists(current)) {
        throw new IOException("no vault master key in " + dataDir + ": nothing to rotate");
      }
      MasterKey old = MasterKey.read(current);
      if (!Files.exists(next)) {
        MasterKey.create(next); // durable before anything is wrapped under it
      }
      MasterKey fresh = MasterKey.read(next); // read back: what is wrapped under it is what is on disk
      int rewrapped = new Vault(dataDir.resolve(Vault.DIR), old, clock).rewrap(fresh);
      Files.move(next, current, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      DurableFiles.syncDirectory(dataDir);
      try (AuditTrail audit = AuditTrail.open(dataDir, clock)) {
        audit.masterKeyRotated(old.id(), fresh.id(), rewrapped);
      }
      return new Result(old.id(), fresh.id(), rewrapped);
    }
  }
}
