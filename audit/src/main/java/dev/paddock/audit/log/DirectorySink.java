package dev.paddock.audit.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Ships sealed segments to a directory (another disk, a mounted share): each file copied to a
 * temporary name, fsynced, renamed into place, and the directory fsynced, so a crash leaves either
 * the whole file or none. The copy keeps the log's file names, so {@code paddock audit verify} reads
 * the live directory and this one as one log.
 */
public final class DirectorySink implements SegmentSink {
  private final Path dir;

  public DirectorySink(Path dir) throws IOException {
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    this.dir = dir;
  }

  @Override
  public void ship(Segments.Segment sealed) throws IOException {
    // The checkpoint last: a checkpoint beside a segment says the segment is complete.
    copy(sealed.file());
    copy(sealed.checkpointFile());
  }

  @Override
  public List<Segments.Segment> shipped() throws IOException {
    return Segments.list(dir).stream().filter(s -> Files.exists(s.checkpointFile())).toList();
  }

  private void copy(Path from) throws IOException {
    Path target = dir.resolve(from.getFileName());
    Path temp = dir.resolve(from.getFileName() + ".tmp");
    Files.copy(from, temp, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    DurableFiles.syncDirectory(dir);
  }
}
