package dev.paddock.sandbox;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds the real nsjail for tests that need one. Such tests may skip only where a jail cannot exist
 * (not Linux), with the reason printed. On Linux a missing jail is a failure, and with {@code CI=true}
 * any skip is a failure too.
 */
public final class JailRequirement {
  private JailRequirement() {}

  /** The nsjail binary: $PADDOCK_NSJAIL, else the one scripts/setup installs under .paddock/tools. */
  public static Path nsjail() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) {
      String reason = "needs Linux for a real nsjail jail; this is " + os;
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true: a jail test may not skip (" + reason + ")");
      }
      System.out.println("SKIPPED: " + reason);
      Assumptions.abort(reason);
    }
    String configured = System.getenv("PADDOCK_NSJAIL");
    Path path = configured != null && !configured.isBlank()
        ? Path.of(configured)
        : projectRoot().resolve(".paddock/tools/nsjail/nsjail/bin/nsjail");
    if (!Files.isExecutable(path)) {
      fail("nsjail not found at " + path + ": run scripts/setup (jail tests never skip on Linux)");
    }
    return path;
  }

  /** The repository root, passed by Maven as the system property paddock.root. */
  public static Path projectRoot() {
    String root = System.getProperty("paddock.root");
    if (root != null && !root.isBlank()) {
      return Path.of(root);
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve(".paddock")) && !Files.exists(dir.resolve(".ci"))) {
      dir = dir.getParent();
    }
    return dir == null ? Path.of("").toAbsolutePath() : dir;
  }
}
