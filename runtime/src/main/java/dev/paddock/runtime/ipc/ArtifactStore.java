package dev.paddock.runtime.ipc;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import dev.paddock.runtime.FileTrees;
import dev.paddock.runtime.session.Session;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Artifacts tools record, on the host's disk: {@code <dir>/<session>/<exec>/<name>}, files of the
 * host user (0600) that no jail can see. An artifact is written once and never changed; a session's
 * artifacts are deleted when it closes, and the whole store when the host starts (sessions do not
 * outlive a host). Bounded per session by bytes (each artifact counting at least
 * {@value #MIN_CHARGE_BYTES}) and by count, so neither disk nor inodes run out.
 */
public final class ArtifactStore {
  private static final Logger log = LoggerFactory.getLogger(ArtifactStore.class);
  /** Artifact names: what the IPC contract allows. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,255}");
  /** Largest artifact copied from the workspace, bytes. */
  public static final long MAX_ARTIFACT_BYTES = 64L << 20;
  /** Most artifacts one exec may record. */
  public static final int MAX_PER_EXEC = 64;
  /** Most artifact bytes one session may hold. */
  public static final long MAX_SESSION_BYTES = 256L << 20;
  /** Most artifacts one session may hold. */
  public static final int MAX_PER_SESSION = 1024;
  /** What an artifact counts against the session's bytes at least (an empty one still takes an inode). */
  static final long MIN_CHARGE_BYTES = 4096;

  private final Path dir;
  private final Map<String, Budget> budgets = new ConcurrentHashMap<>();

  /** What a session's artifacts take. */
  private static final class Budget {
    final AtomicLong bytes = new AtomicLong();
    int count;
  }

  /** A store in {@code dir}, emptied now. */
  public ArtifactStore(Path dir) throws IOException {
    this.dir = dir;
    FileTrees.delete(dir);
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** Checks an artifact name against the contract; throws INVALID_ARGUMENT. */
  static void checkName(String name) {
    if (!NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw ToolRefusal.invalid("name", "must be 1-255 characters from [A-Za-z0-9._-], not \".\" or \"..\"");
    }
  }

  /**
   * Stores {@code content} (at most {@code maxBytes}) as artifact {@code name} of the exec.
   *
   * @throws ToolRefusal ALREADY_EXISTS for a name the exec used, PAYLOAD_TOO_LARGE past
   *     {@code maxBytes}, RESOURCE_EXHAUSTED past the session's bytes
   */
  public ArtifactMeta store(Session session, String execId, String name, String contentType, InputStream content,
      long maxBytes) {
    checkName(name);
    String sessionId = session.id();
    Budget budget = budgets.computeIfAbsent(sessionId, k -> new Budget());
    AtomicLong used = budget.bytes;
    Path execDir = dir.resolve(sessionId).resolve(execId);
    Path target = execDir.resolve(name);
    Path temp = null;
    boolean counted = false;
    try {
      // Under the session's lock, where closing it marks it closed: a session's directory is made
      // only while it is active, so deleteSession (which runs after the close) always finds it.
      // Writing happens outside; if the directory goes meanwhile, the final move fails.
      synchronized (session) {
        if (session.state() != Session.State.ACTIVE) {
          throw new ToolRefusal(IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION, "the session is closing");
        }
        Files.createDirectories(execDir);
      }
      if (Files.exists(target)) {
        throw new ToolRefusal(IpcErrorReason.IPC_ERROR_ALREADY_EXISTS,
            "this exec already recorded an artifact named \"" + name + "\"", Map.of("name", name));
      }
      synchronized (budget) {
        if (budget.count >= MAX_PER_SESSION) {
          throw ToolRefusal.exhausted("artifactsPerSession", "a session may hold at most " + MAX_PER_SESSION + " artifacts");
        }
        budget.count++;
        counted = true;
      }
      temp = Files.createTempFile(execDir, ".part-", "");
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long size = 0;
      long charged = MIN_CHARGE_BYTES; // what this artifact has taken of the session's bytes so far
      boolean stored = false;
      if (used.addAndGet(MIN_CHARGE_BYTES) > MAX_SESSION_BYTES) {
        used.addAndGet(-MIN_CHARGE_BYTES);
        throw ToolRefusal.exhausted("artifactBytes", "the session's artifacts would exceed " + MAX_SESSION_BYTES + " bytes");
      }
      try {
        try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.WRITE)) {
          byte[] buf = new byte[64 * 1024];
          int n;
          while ((n = content.read(buf)) > 0) {
            size += n;
            long more = Math.max(0, size - charged);
            charged += more;
            boolean overBudget = used.addAndGet(more) > MAX_SESSION_BYTES;
            if (size > maxBytes) {
              throw ToolRefusal.tooLarge("artifact", maxBytes);
            }
            if (overBudget) {
              throw ToolRefusal.exhausted("artifactBytes",
                  "the session's artifacts would exceed " + MAX_SESSION_BYTES + " bytes");
            }
            sha.update(buf, 0, n);
            out.write(buf, 0, n);
          }
        }
        try {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
          throw new ToolRefusal(IpcErrorReason.IPC_ERROR_ALREADY_EXISTS,
              "this exec already recorded an artifact named \"" + name + "\"", Map.of("name", name));
        }
        stored = true;
      } finally {
        if (!stored) {
          used.addAndGet(-charged);
        }
      }
      temp = null;
      counted = false; // kept
      return new ArtifactMeta(name, size, HexFormat.of().formatHex(sha.digest()),
          contentType.isEmpty() ? "application/octet-stream" : contentType);
    } catch (IOException e) {
      if (session.state() != Session.State.ACTIVE) {
        throw new ToolRefusal(IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION, "the session is closing");
      }
      log.error("session {}: cannot store an artifact", sessionId, e);
      throw new ToolRefusal(IpcErrorReason.IPC_ERROR_INTERNAL, "the host could not store the artifact");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } finally {
      if (counted) {
        synchronized (budget) {
          budget.count--;
        }
      }
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException e) {
          log.warn("session {}: cannot remove a partial artifact", sessionId, e);
        }
      }
    }
  }

  /** Opens a stored artifact; NoSuchFileException when there is none of that name. */
  public InputStream open(String sessionId, String execId, String name) throws IOException {
    if (!NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw new NoSuchFileException(name);
    }
    return Files.newInputStream(dir.resolve(sessionId).resolve(execId).resolve(name));
  }

  /** Deletes a closed session's artifacts. */
  public void deleteSession(String sessionId) {
    budgets.remove(sessionId);
    try {
      FileTrees.delete(dir.resolve(sessionId));
    } catch (IOException | UncheckedIOException e) {
      log.warn("session {}: cannot delete its artifacts", sessionId, e);
    }
  }
}
