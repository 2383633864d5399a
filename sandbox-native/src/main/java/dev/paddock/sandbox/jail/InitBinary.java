package dev.paddock.sandbox.jail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * Finds the paddock-init binary. The build compiles it (sandbox-native/src/main/c) and packs it
 * into the sandbox-native jar; the host copies it out into its own private directory at start-up
 * (so a running host never depends on the build tree), unless the operator names a file.
 */
public final class InitBinary {
  /** Where the build puts the binary on the class path. */
  static final String RESOURCE = "/dev/paddock/sandbox/jail/paddock-init";

  private InitBinary() {}

  /**
   * The binary to use: {@code configured} when set, else the packed one copied to
   * {@code <privateDir>/paddock-init} (mode 0555: the jail user executes it through the descriptor nsjail opened; replaced only when its bytes differ).
   *
   * @throws IOException when there is neither (the sandbox then cannot start: fail closed)
   */
  public static Path locate(Path configured, Path privateDir) throws IOException {
    if (configured != null) {
      if (!Files.isRegularFile(configured)) {
        throw new IOException("paddock-init not found at the configured path");
      }
      return configured;
    }
    byte[] packed;
    try (InputStream in = InitBinary.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException("paddock-init is not packed in this build (build sandbox-native on Linux with a C compiler)");
      }
      packed = in.readAllBytes();
    }
    Files.createDirectories(privateDir);
    Files.setPosixFilePermissions(privateDir, PosixFilePermissions.fromString("rwx------"));
    Path target = privateDir.resolve("paddock-init");
    if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), packed)
        && Files.getPosixFilePermissions(target).equals(PosixFilePermissions.fromString("r-xr-xr-x"))) {
      return target;
    }
    Path tmp = Files.createTempFile(privateDir, "paddock-init", ".tmp");
    Files.write(tmp, packed);
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }
}
