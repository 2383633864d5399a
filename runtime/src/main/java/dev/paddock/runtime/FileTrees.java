package dev.paddock.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Host-side directory trees the host made itself (never a tenant's workspace: that is WorkspaceFiles' job). */
public final class FileTrees {
  private FileTrees() {}

  /**
   * Deletes {@code root} and everything below it, children first; nothing there is fine. Symbolic
   * links are deleted, never followed.
   */
  public static void delete(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
