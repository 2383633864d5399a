package dev.paddock.runtime.policy;

import dev.paddock.audit.log.DurableFiles;
import dev.paddock.audit.note.NoteException;
import dev.paddock.audit.note.NoteVerifier;
import dev.paddock.audit.note.SignedNote;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A data directory's policy packs on disk, under {@code <data-dir>/policy/}:
 * <ul>
 *   <li>{@code verifier.keys}: the Ed25519 verifier keys a pack must be signed by (one of them),
 *       one per line in signed-note form ({@code name+hash+base64}); {@code #} starts a comment;
 *   <li>{@code pack.signed}: the pack in force, a C2SP signed note (the pack's YAML, a blank line,
 *       signature lines);
 *   <li>{@code applied/<version>.signed}: every pack ever applied, for rollback and audit.
 * </ul>
 * Used by the host (which reads and re-verifies) and by {@code paddock policy} (which writes).
 */
public final class PolicyPackStore {
  static final String DIR = "policy";
  private final Path dir;

  /** A pack whose signature and content checked out, and its signed text. */
  public record Verified(PolicyPack pack, String signedBy, String signedText) {}

  public PolicyPackStore(Path dataDir) {
    this.dir = dataDir.resolve(DIR);
  }

  public Path packFile() {
    return dir.resolve("pack.signed");
  }

  public Path verifierKeysFile() {
    return dir.resolve("verifier.keys");
  }

  Path applied(long version) {
    return dir.resolve("applied").resolve(version + ".signed");
  }

  /** The trusted verifier keys; none when the file does not exist. A line that does not parse is an error. */
  public List<NoteVerifier> verifiers() throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(verifierKeysFile(), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    }
    List<NoteVerifier> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        out.add(NoteVerifier.parse(line));
      } catch (NoteException e) {
        throw new IOException(verifierKeysFile() + ":" + (i + 1) + ": not a verifier key: " + e.getMessage());
      }
    }
    return out;
  }

  /** Adds {@code verifierKey} to the trusted keys (checked first). */
  public void trust(String verifierKey) throws IOException {
    try {
      NoteVerifier.parse(verifierKey);
    } catch (NoteException e) {
      throw new IOException("not a verifier key: " + e.getMessage());
    }
    makeDir();
    String before = Files.exists(verifierKeysFile()) ? Files.readString(verifierKeysFile()) : "";
    String after = before + (before.isEmpty() || before.endsWith("\n") ? "" : "\n") + verifierKey.strip() + "\n";
    DurableFiles.replace(verifierKeysFile(), after.getBytes(StandardCharsets.UTF_8), DurableFiles.OWNER_ONLY);
  }

  /**
   * Checks {@code signed}: a signed note carrying a valid signature by one of {@code verifiers},
   * whose text is a valid pack. PackException says what is wrong, for people.
   */
  public static Verified verify(String signed, List<NoteVerifier> verifiers) throws PackException {
    if (verifiers.isEmpty()) {
      throw new PackException("no verifier key is trusted (paddock policy trust), so no pack can be checked");
    }
    SignedNote note;
    try {
      note = SignedNote.parse(signed);
    } catch (NoteException e) {
      throw new PackException("not a signed pack (" + e.getMessage() + "); sign it with paddock policy sign");
    }
    String text = null;
    String by = null;
    String problem = "it carries no signature by a trusted key";
    for (NoteVerifier v : verifiers) {
      try {
        text = v.open(signed);
        by = v.name();
        break;
      } catch (NoteException e) {
        if (note.signatures().stream().anyMatch(s -> s.name().equals(v.name()) && s.keyHash() == v.keyHash())) {
          problem = "its signature by " + v.name() + " does not verify: the pack was altered after it was signed";
        }
      }
    }
    if (text == null) {
      throw new PackException("refused: " + problem);
    }
    try {
      return new Verified(PolicyPack.parse(text), by, signed);
    } catch (IllegalArgumentException e) {
      throw new PackException("signed, but not a valid pack: " + e.getMessage());
    }
  }

  /** The pack in force, verified; empty when none was ever applied. */
  public Optional<Verified> current() throws IOException, PackException {
    String signed;
    try {
      signed = Files.readString(packFile(), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (java.nio.charset.MalformedInputException e) {
      throw new PackException("not a signed pack: not UTF-8 text");
    }
    return Optional.of(verify(signed, verifiers()));
  }

  /** The newest pack of {@code applied/} that still verifies, for a host whose pack file is bad. */
  public Optional<Verified> newestApplied() throws IOException {
    Path appliedDir = dir.resolve("applied");
    if (!Files.isDirectory(appliedDir)) {
      return Optional.empty();
    }
    List<NoteVerifier> keys = verifiers();
    List<Long> versions = new ArrayList<>();
    try (Stream<Path> files = Files.list(appliedDir)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9]{1,18}\\.signed"))
          .forEach(n -> versions.add(Long.parseLong(n.substring(0, n.indexOf('.')))));
    }
    versions.sort(java.util.Comparator.reverseOrder());
    for (long v : versions) {
      try {
        Verified ok = verify(Files.readString(applied(v), StandardCharsets.UTF_8), keys);
        if (ok.pack().version() == v) {
          return Optional.of(ok);
        }
      } catch (PackException | IOException e) {
        // not good either: try an older one
      }
    }
    return Optional.empty();
  }

  /** The signed text of applied version {@code version}. */
  public String appliedText(long version) throws IOException {
    try {
      return Files.readString(applied(version), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IOException("no pack with version " + version + " was ever applied here");
    }
  }

  /**
   * Puts {@code signed} in force: verified against the trusted keys, its version higher than the
   * pack in force (an old pack cannot be replayed; roll back by signing its content with a new
   * version), kept in {@code applied/}, then made the pack file (atomically, fsynced). A running
   * host takes it within a second.
   */
  public Verified apply(String signed) throws IOException, PackException {
    Verified next = verify(signed, verifiers());
    Optional<Verified> now;
    try {
      now = current();
    } catch (PackException e) {
      now = newestApplied();
    }
    if (now.isPresent() && next.pack().version() <= now.get().pack().version()) {
      throw new PackException("refused: version " + next.pack().version() + " is not higher than the pack in force ("
          + now.get().pack().label() + "); to roll back, use paddock policy rollback");
    }
    makeDir();
    Files.createDirectories(applied(0).getParent());
    byte[] bytes = signed.getBytes(StandardCharsets.UTF_8);
    Path kept = applied(next.pack().version());
    if (Files.exists(kept)) {
      if (!java.util.Arrays.equals(Files.readAllBytes(kept), bytes)) {
        throw new PackException("refused: another pack with version " + next.pack().version() + " was applied before");
      }
    } else {
      DurableFiles.createNew(kept, bytes, DurableFiles.OWNER_ONLY);
    }
    DurableFiles.replace(packFile(), bytes, DurableFiles.OWNER_ONLY);
    return next;
  }

  private void makeDir() throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
  }
}
