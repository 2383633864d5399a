package dev.paddock.sandbox.jail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

/**
 * A jail's host-side scratch directory (0700, the host's alone): nsjail's config file and its log.
 * Flat and made only by the host, so deleting it never walks anything a tenant made.
 */
final class JailScratch {
  private final Path dir;

  private JailScratch(Path dir) {
    this.dir = dir;
  }

  static JailScratch create(Path scratchRoot, String name) throws IOException {
    Files.createDirectories(scratchRoot);
    Files.setPosixFilePermissions(scratchRoot, PosixFilePermissions.fromString("rwx------"));
    return new JailScratch(Files.createDirectory(scratchRoot.resolve(name),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
  }

  Path config() {
    return dir.resolve("nsjail.cfg");
  }

  Path log() {
    return dir.resolve("nsjail.log");
  }

  /** The last lines of nsjail's log, for the host log when a jail fails to start. */
  List<String> logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log());
      return all.subList(Math.max(0, all.size() - lines), all.size());
    } catch (IOException e) {
      return List.of();
    }
  }

  /** Deletes the directory; throws when something is left, so the caller retries. */
  void delete() throws IOException {
    delete(dir);
  }

  /**
   * Deletes a jail scratch directory {@code dir} (this run's or a previous run's) and the flat
   * files in it; missing is fine.
   */
  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
    }
    Files.deleteIfExists(dir);
  }

  @Override
  public String toString() {
    return dir.getFileName().toString();
  }
}
