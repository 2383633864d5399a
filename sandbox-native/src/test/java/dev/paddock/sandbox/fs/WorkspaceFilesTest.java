package dev.paddock.sandbox.fs;

import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_CREAT;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_DIRECTORY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_EXCL;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_PATH;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.O_WRONLY;
import static dev.paddock.sandbox.fs.internal.FsSyscalls.RENAME_EXCHANGE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.paddock.sandbox.fs.WorkspaceFileException.Kind;
import dev.paddock.sandbox.fs.internal.FsSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WorkspaceFiles} against the real kernel, as root: a temporary host directory plays the
 * workspace, and a sibling "outside" directory holds a secret that no operation may ever read,
 * change or add to (checked after every test, together with /etc/shadow).
 */
class WorkspaceFilesTest {
  private static final int OWNER = 99999;
  private static final String SECRET = "top secret\n";
  private static final FsSyscalls SYS = FsSyscalls.instance();
  private static final Path SHADOW = Path.of("/etc/shadow");

  @TempDir Path temp;
  Path ws;
  Path outside;
  WorkspaceRoot root;
  WorkspaceFiles files;
  Map<String, String> outsideBefore;
  String shadowBefore;

  @BeforeEach
  void setUp() throws Exception {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) {
      System.out.println("SKIPPED: WorkspaceFiles needs Linux (openat2); this is " + os);
      Assumptions.abort("needs Linux");
    }
    assertThat((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"))
        .as("these tests chown to uid %d and must run as root", OWNER).isZero();
    ws = Files.createDirectory(temp.resolve("ws"));
    outside = Files.createDirectory(temp.resolve("outside"));
    Path secret = Files.writeString(outside.resolve("secret"), SECRET);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
    outsideBefore = snapshot(outside);
    shadowBefore = snapshotFile(SHADOW);
    root = WorkspaceRoot.open(ws);
    files = new WorkspaceFiles(root, OWNER, OWNER, 256L << 20);
  }

  @AfterEach
  void outsideIsUntouched() throws Exception {
    if (root != null) {
      root.close();
    }
    if (outside != null) {
      assertThat(snapshot(outside)).as("the outside directory").isEqualTo(outsideBefore);
      assertThat(snapshotFile(SHADOW)).as("/etc/shadow").isEqualTo(shadowBefore);
    }
  }

  // ---- upload and download --------------------------------------------------------------------

  @Test
  void roundTripOf100MiBIsByteExact() throws Exception {
    MessageDigest sent = MessageDigest.getInstance("SHA-256");
    SplittableRandom random = new SplittableRandom(42);
    byte[] chunk = new byte[1 << 20];
    long t0 = System.nanoTime();
    FileStat committed;
    try (Upload upload = files.beginUpload("big.bin", 0644, false, false)) {
      for (int i = 0; i < 100; i++) {
        random.nextBytes(chunk);
        sent.update(chunk);
        upload.write(chunk);
      }
      committed = upload.commit();
    }
    long t1 = System.nanoTime();
    MessageDigest received = MessageDigest.getInstance("SHA-256");
    long total = 0;
    try (WorkspaceInputStream in = files.openRead("big.bin")) {
      assertThat(in.stat().sizeBytes()).isEqualTo(100L << 20);
      byte[] buf = new byte[256 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        received.update(buf, 0, n);
        total += n;
      }
    }
    long t2 = System.nanoTime();
    System.out.printf("100 MiB: upload %d ms, download %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(t1 - t0), TimeUnit.NANOSECONDS.toMillis(t2 - t1));
    assertThat(committed.sizeBytes()).isEqualTo(100L << 20);
    assertThat(committed.type()).isEqualTo(FileType.REGULAR);
    assertThat(total).isEqualTo(100L << 20);
    assertThat(HexFormat.of().formatHex(received.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
    assertThat(Files.size(ws.resolve("big.bin"))).isEqualTo(100L << 20);
  }

  @Test
  void readsARangeAndOneByteAtATime() throws Exception {
    upload("r.txt", "0123456789");
    try (InputStream in = files.openRead("r.txt", 3, 4)) {
      assertThat(new String(in.readAllBytes(), UTF_8)).isEqualTo("3456");
    }
    try (InputStream in = files.openRead("r.txt", 8, Long.MAX_VALUE)) {
      assertThat(in.read()).isEqualTo('8');
      assertThat(in.read()).isEqualTo('9');
      assertThat(in.read()).isEqualTo(-1);
    }
    expect(Kind.INVALID_ARGUMENT, () -> files.openRead("r.txt", -1, 4));
    expect(Kind.WRONG_FILE_TYPE, () -> files.openRead(""));
    Files.createDirectory(ws.resolve("dir"));
    expect(Kind.WRONG_FILE_TYPE, () -> files.openRead("dir"));
    expect(Kind.NOT_FOUND, () -> files.openRead("missing"));
    expect(Kind.NOT_FOUND, () -> files.openRead("missing/x"));
    expect(Kind.NOT_FOUND, () -> files.openRead("r.txt/x"));
  }

  @Test
  void uploadRefusesToOverwriteUnlessAskedAndIsAtomic() throws Exception {
    upload("a.txt", "one");
    expect(Kind.ALREADY_EXISTS, () -> files.beginUpload("a.txt", 0644, false, false));

    try (Upload upload = files.beginUpload("a.txt", 0644, true, false)) {
      upload.write("two, longer".getBytes(UTF_8));
      assertThat(read("a.txt")).as("target untouched until commit").isEqualTo("one");
      upload.commit();
    }
    assertThat(read("a.txt")).isEqualTo("two, longer");

    try (Upload upload = files.beginUpload("b.txt", 0644, false, false)) {
      upload.write("partial".getBytes(UTF_8));
      upload.abort();
    }
    try (Upload upload = files.beginUpload("c.txt", 0644, false, false)) {
      upload.write("closed without commit".getBytes(UTF_8));
    }
    try (Upload upload = files.beginUpload("a.txt", 0644, true, false)) {
      upload.write("aborted overwrite".getBytes(UTF_8));
    }
    assertThat(read("a.txt")).isEqualTo("two, longer");
    assertThat(names(ws)).containsExactly("a.txt");

    // Something appears at the target between begin and commit.
    Upload late = files.beginUpload("d.txt", 0644, false, false);
    late.write("mine".getBytes(UTF_8));
    Files.writeString(ws.resolve("d.txt"), "theirs");
    expect(Kind.ALREADY_EXISTS, late::commit);
    assertThat(Files.readString(ws.resolve("d.txt"))).isEqualTo("theirs");

    // A directory at the target, before or at commit.
    Files.createDirectory(ws.resolve("dir"));
    expect(Kind.WRONG_FILE_TYPE, () -> files.beginUpload("dir", 0644, true, false));
    expect(Kind.WRONG_FILE_TYPE, () -> files.beginUpload("", 0644, true, false));
    Upload intoDir = files.beginUpload("e", 0644, true, false);
    Files.createDirectory(ws.resolve("e"));
    expect(Kind.WRONG_FILE_TYPE, intoDir::commit);
    expect(Kind.NOT_FOUND, () -> files.beginUpload("no/such/dir.txt", 0644, false, false));
    assertThat(names(ws)).containsExactly("a.txt", "d.txt", "dir", "e");
    assertThat(names(ws.resolve("e"))).isEmpty();
  }

  @Test
  void uploadEnforcesTheFileSizeLimit() throws Exception {
    WorkspaceFiles small = new WorkspaceFiles(root, OWNER, OWNER, 1000);
    Upload upload = small.beginUpload("f.bin", 0644, false, false);
    upload.write(new byte[600]);
    expect(Kind.TOO_LARGE, () -> upload.write(new byte[401]));
    assertThat(names(ws)).as("aborted: no temporary file left").isEmpty();
    try (Upload exact = small.beginUpload("g.bin", 0644, false, false)) {
      exact.write(new byte[1000]);
      assertThat(exact.commit().sizeBytes()).isEqualTo(1000);
    }
  }

  @Test
  void createdFilesAndDirectoriesBelongToTheOwnerWithTheRequestedMode() throws Exception {
    try (Upload upload = files.beginUpload("x/y/file.txt", 0640, false, true)) {
      upload.write("hi".getBytes(UTF_8));
      FileStat st = upload.commit();
      assertThat(st.mode()).isEqualTo(0640);
      assertThat(st.path()).isEqualTo("x/y/file.txt");
      assertThat(st.name()).isEqualTo("file.txt");
    }
    assertOwnedWithMode(ws.resolve("x"), 0755);
    assertOwnedWithMode(ws.resolve("x/y"), 0755);
    assertOwnedWithMode(ws.resolve("x/y/file.txt"), 0640);

    assertThat(files.makeDirectory("m/n/o", 0777, true)).isTrue(); // 0777 despite the host's umask
    assertOwnedWithMode(ws.resolve("m"), 0755);
    assertOwnedWithMode(ws.resolve("m/n"), 0755);
    assertOwnedWithMode(ws.resolve("m/n/o"), 0777);
    assertThat(files.makeDirectory("m/n/o", 0700, true)).isFalse();
    assertThat(files.makeDirectory("", 0700, true)).isFalse();
    expect(Kind.ALREADY_EXISTS, () -> files.makeDirectory("m/n/o", 0700, false));
    expect(Kind.ALREADY_EXISTS, () -> files.makeDirectory("x/y/file.txt", 0700, true));
    expect(Kind.ALREADY_EXISTS, () -> files.makeDirectory("x/y/file.txt/sub", 0700, true));
    expect(Kind.NOT_FOUND, () -> files.makeDirectory("x/y/file.txt/sub", 0700, false));
    expect(Kind.NOT_FOUND, () -> files.makeDirectory("q/r", 0700, false));
    expect(Kind.INVALID_ARGUMENT, () -> files.makeDirectory("q", 01777, false));
    assertThat(files.makeDirectory("q", 0, false)).isTrue();
    assertOwnedWithMode(ws.resolve("q"), 0);
    try (Upload upload = files.beginUpload("zero", 0, false, false)) {
      upload.commit();
    }
    assertOwnedWithMode(ws.resolve("zero"), 0);
    expect(Kind.INVALID_ARGUMENT, () -> files.beginUpload("suid", 04755, false, false));
  }

  // ---- symlinks, FIFOs, hard links ------------------------------------------------------------

  @Test
  void plantedSymlinksAreTreatedAsLinksNeverFollowed() throws Exception {
    Files.createSymbolicLink(ws.resolve("link"), Path.of("../outside/secret"));
    Files.createSymbolicLink(ws.resolve("abs"), SHADOW);
    upload("file", "mine");
    for (String link : List.of("link", "abs")) {
      String target = Files.readSymbolicLink(ws.resolve(link)).toString();
      expect(Kind.WRONG_FILE_TYPE, () -> files.openRead(link));
      FileStat st = files.stat(link).orElseThrow();
      assertThat(st.type()).isEqualTo(FileType.SYMLINK);
      assertThat(st.symlinkTarget()).isEqualTo(target);
      assertThat(st.sizeBytes()).isEqualTo(target.length());
      expect(Kind.ALREADY_EXISTS, () -> files.beginUpload(link, 0644, false, false));
      expect(Kind.ALREADY_EXISTS, () -> files.makeDirectory(link, 0755, true));
      expect(Kind.ALREADY_EXISTS, () -> files.makeDirectory(link, 0755, false));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.makeDirectory(link + "/sub", 0755, true));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.stat(link + "/x"));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.beginUpload(link + "/x", 0644, true, true));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.rename("file", link + "/file", true));
      expect(Kind.ALREADY_EXISTS, () -> files.rename("file", link, false));
      expect(Kind.WRONG_FILE_TYPE, () -> files.chmod(link, 0777));
      expect(Kind.WRONG_FILE_TYPE, () -> files.list(link, false, 1, 10));
    }
    // Overwriting replaces the link itself; nothing is written through it.
    try (Upload upload = files.beginUpload("link", 0644, true, false)) {
      upload.write("replaced".getBytes(UTF_8));
      assertThat(upload.commit().type()).isEqualTo(FileType.REGULAR);
    }
    assertThat(Files.isSymbolicLink(ws.resolve("link"))).isFalse();
    assertThat(read("link")).isEqualTo("replaced");
    // Renaming over a link replaces the link; renaming a link moves the link.
    assertThat(files.rename("abs", "moved", false).symlinkTarget()).isEqualTo(SHADOW.toString());
    assertThat(files.rename("file", "moved", true).type()).isEqualTo(FileType.REGULAR);
    Files.createSymbolicLink(ws.resolve("gone"), Path.of("../outside/secret"));
    files.remove("gone", false);
    Files.createSymbolicLink(ws.resolve("gone"), Path.of("../outside"));
    files.remove("gone", true); // the link, not the directory it points at
    assertThat(names(ws)).containsExactly("link", "moved");
  }

  @Test
  void aSymlinkedDirectoryOnTheWayOutIsRefused() throws Exception {
    Files.createSymbolicLink(ws.resolve("mid"), Path.of("../outside"));
    Files.createSymbolicLink(ws.resolve("etc"), Path.of("/etc"));
    Files.createDirectories(ws.resolve("sub"));
    Files.writeString(ws.resolve("sub/f"), "inside");
    Files.createSymbolicLink(ws.resolve("sub/up"), Path.of("../../outside"));
    Files.createSymbolicLink(ws.resolve("inner"), Path.of("sub"));
    upload("mine", "x");
    for (String path : List.of("mid/secret", "etc/shadow", "sub/up/secret")) {
      expect(Kind.ESCAPES_WORKSPACE, () -> files.stat(path));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.openRead(path));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.beginUpload(path, 0644, true, false));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.beginUpload(path + "/deeper", 0644, true, true));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.makeDirectory(path, 0755, false));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.remove(path, true));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.rename(path, "stolen", false));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.rename("mine", path, true));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.chmod(path, 0777));
      expect(Kind.ESCAPES_WORKSPACE, () -> files.list(path, true, 5, 10));
    }
    // A relative symlink that stays inside is followed in the middle of a path.
    assertThat(read("inner/f")).isEqualTo("inside");
    assertThat(files.stat("inner/f").orElseThrow().path()).isEqualTo("inner/f");
  }

  @Test
  @Timeout(5)
  void aPlantedFifoNeverBlocks() throws Exception {
    Process mkfifo = new ProcessBuilder("mkfifo", ws.resolve("fifo").toString()).start();
    assertThat(mkfifo.waitFor()).isZero();
    expect(Kind.WRONG_FILE_TYPE, () -> files.openRead("fifo"));
    expect(Kind.WRONG_FILE_TYPE, () -> files.chmod("fifo", 0600));
    assertThat(files.stat("fifo").orElseThrow().type()).isEqualTo(FileType.OTHER);
    assertThat(files.list("", true, 3, 10).entries()).extracting(FileStat::path).containsExactly("fifo");
    try (Upload upload = files.beginUpload("fifo", 0644, true, false)) {
      upload.write("now a file".getBytes(UTF_8));
      upload.commit();
    }
    assertThat(read("fifo")).isEqualTo("now a file");
  }

  @Test
  void hardLinkedFilesAreNeitherReadNorChanged() throws Exception {
    // Only possible here because the test's workspace shares a filesystem with "outside".
    Files.createLink(ws.resolve("hl"), outside.resolve("secret"));
    expect(Kind.HARD_LINKED, () -> files.openRead("hl"));
    expect(Kind.HARD_LINKED, () -> files.chmod("hl", 0777));
    assertThat(files.stat("hl").orElseThrow().type()).isEqualTo(FileType.REGULAR);
    // Replacing or removing the workspace's name leaves the other link alone.
    try (Upload upload = files.beginUpload("hl", 0644, true, false)) {
      upload.write("replaced".getBytes(UTF_8));
      upload.commit();
    }
    assertThat(read("hl")).isEqualTo("replaced");
    Files.createLink(ws.resolve("hl2"), outside.resolve("secret"));
    files.remove("hl2", false);
    Files.createLink(ws.resolve("hl3"), outside.resolve("secret"));
    files.rename("hl3", "hl4", false);
    files.remove("hl4", true);
    // The rule is about the link count, so the tenant's own hard links are refused too.
    Files.createLink(ws.resolve("hl-again"), ws.resolve("hl"));
    expect(Kind.HARD_LINKED, () -> files.openRead("hl"));
    files.remove("hl-again", false);
    assertThat(read("hl")).isEqualTo("replaced");
  }

  // ---- races ----------------------------------------------------------------------------------

  @Test
  void swappingADirectoryWithASymlinkOutNeverReachesOutside() throws Exception {
    Files.createDirectory(ws.resolve("d"));
    Files.createSymbolicLink(ws.resolve("dlink"), Path.of("../outside"));
    int wsFd = SYS.open(ws.toString(), O_PATH | O_DIRECTORY);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong swaps = new AtomicLong();
    Thread swapper = new Thread(() -> {
      byte[] d = "d".getBytes(UTF_8);
      byte[] dlink = "dlink".getBytes(UTF_8);
      while (!stop.get()) {
        try {
          SYS.renameat2(wsFd, d, wsFd, dlink, RENAME_EXCHANGE);
          swaps.incrementAndGet();
        } catch (NativeException e) {
          throw new IllegalStateException(e);
        }
      }
    }, "swapper");
    Map<String, Integer> outcomes = new TreeMap<>();
    long t0 = System.nanoTime();
    swapper.start();
    try {
      for (int i = 0; i < 2000; i++) {
        String payload = "payload-" + i;
        outcomes.merge("upload " + attempt(() -> {
          try (Upload upload = files.beginUpload("d/file", 0644, true, false)) {
            upload.write(payload.getBytes(UTF_8));
            upload.commit();
          }
        }), 1, Integer::sum);
        outcomes.merge("read " + attempt(() -> {
          try (InputStream in = files.openRead("d/file")) {
            assertThat(new String(in.readAllBytes(), UTF_8)).startsWith("payload-");
          }
        }), 1, Integer::sum);
        outcomes.merge("stat " + attempt(() -> files.stat("d/file")), 1, Integer::sum);
        // "d" itself is the last component here: a symlink there is refused as a symlink.
        outcomes.merge("list " + attempt(() -> files.list("d", true, 2, 10), Kind.WRONG_FILE_TYPE), 1, Integer::sum);
        outcomes.merge("remove " + attempt(() -> files.remove("d/file", true)), 1, Integer::sum);
      }
    } finally {
      stop.set(true);
      swapper.join();
      SYS.close(wsFd);
    }
    System.out.printf("swap race: 2000 rounds, %d swaps, %d ms, outcomes %s%n", swaps.get(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), outcomes);
    assertThat(swaps.get()).isGreaterThan(1000);
    assertThat(outcomes).containsKeys("upload OK", "upload ESCAPES_WORKSPACE", "read OK", "remove OK");
    Path realDir = Files.isSymbolicLink(ws.resolve("d")) ? ws.resolve("dlink") : ws.resolve("d");
    assertThat(names(realDir)).allMatch(n -> n.equals("file"));
  }

  // ---- deep trees and listings ----------------------------------------------------------------

  @Test
  void removesATreeDeeperThanPathMax() throws Exception {
    Files.createDirectory(ws.resolve("deep"));
    int levels = 200;
    int fd = SYS.open(ws.resolve("deep").toString(), O_PATH | O_DIRECTORY);
    for (int i = 0; i < levels; i++) {
      byte[] name = (String.format("%03d", i) + "n".repeat(47)).getBytes(UTF_8);
      SYS.mkdirat(fd, name, 0755);
      if (i % 10 == 0) {
        SYS.close(SYS.openat2(fd, "file".getBytes(UTF_8), O_WRONLY | O_CREAT | O_EXCL, 0644, 0L));
        SYS.mkdirat(fd, "empty".getBytes(UTF_8), 0755);
      }
      int next = SYS.openat2(fd, name, O_PATH | O_DIRECTORY, 0L);
      SYS.close(fd);
      fd = next;
    }
    SYS.close(SYS.openat2(fd, "bottom".getBytes(UTF_8), O_WRONLY | O_CREAT | O_EXCL, 0644, 0L));
    SYS.close(fd);
    assertThat(levels * 51).isGreaterThan(4096);

    Listing listing = files.list("deep", true, 1000, 100_000);
    assertThat(listing.truncated()).as("depth capped at %d", WorkspaceFiles.MAX_LIST_DEPTH).isTrue();
    assertThat(listing.entries()).filteredOn(FileStat::isDirectory)
        .filteredOn(e -> !e.name().equals("empty")).hasSize(WorkspaceFiles.MAX_LIST_DEPTH);
    expect(Kind.NOT_EMPTY, () -> files.remove("deep", false));

    int fdsBefore = openDescriptors();
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong peak = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (!done.get()) {
        try {
          peak.accumulateAndGet(openDescriptors(), Math::max);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
    }, "fd-sampler");
    sampler.start();
    long t0 = System.nanoTime();
    try {
      files.remove("deep", true);
    } finally {
      done.set(true);
      sampler.join();
    }
    System.out.printf("removed a %d-deep tree (%d bytes of path) in %d ms; descriptors %d before, peak %d%n",
        levels, levels * 51, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), fdsBefore, peak.get());
    assertThat(names(ws)).isEmpty();
    assertThat(openDescriptors()).isEqualTo(fdsBefore);
    // The sampler holds one, the walk at most REMOVE_OPEN_DIRS plus its parent; a 200-deep stack would be far above.
    assertThat(peak.get()).isLessThanOrEqualTo(fdsBefore + WorkspaceFiles.REMOVE_OPEN_DIRS + 6);
    expect(Kind.NOT_FOUND, () -> files.remove("deep", true));
    expect(Kind.INVALID_PATH, () -> files.remove("", true));
  }

  @Test
  void removesAWideTreeWithLinksAndFifosInside() throws Exception {
    for (int i = 0; i < 40; i++) {
      Path dir = Files.createDirectories(ws.resolve("t/a" + i + "/b/c"));
      Files.writeString(dir.resolve("f"), "x");
      Files.createSymbolicLink(dir.resolve("out"), Path.of("../../../../../outside"));
      Files.createSymbolicLink(dir.resolve("etc"), Path.of("/etc"));
    }
    Files.createLink(ws.resolve("t/hl"), outside.resolve("secret"));
    assertThat(new ProcessBuilder("mkfifo", ws.resolve("t/a0/fifo").toString()).start().waitFor()).isZero();
    files.remove("t", true);
    assertThat(names(ws)).isEmpty();
  }

  @Test
  void listIsSortedBoundedAndDoesNotFollowSymlinkedDirectories() throws Exception {
    Files.createDirectories(ws.resolve("a/y"));
    Files.writeString(ws.resolve("a/y/deep"), "d");
    Files.writeString(ws.resolve("a/z"), "z");
    Files.writeString(ws.resolve("a-c"), "ac");
    Files.writeString(ws.resolve("b"), "bb");
    Files.createSymbolicLink(ws.resolve("ln"), Path.of("a"));
    Files.createSymbolicLink(ws.resolve("out"), Path.of("../outside"));

    assertThat(paths(files.list("", false, 0, 100))).containsExactly("a", "a-c", "b", "ln", "out");
    Listing all = files.list("", true, 10, 100);
    assertThat(paths(all)).containsExactly("a", "a/y", "a/y/deep", "a/z", "a-c", "b", "ln", "out");
    assertThat(all.truncated()).isFalse();
    assertThat(all.entries().get(6).symlinkTarget()).isEqualTo("a");
    assertThat(all.entries().get(7).isSymlink()).isTrue();
    assertThat(all.entries().get(4).sizeBytes()).isEqualTo(2);

    Listing three = files.list("", true, 10, 3);
    assertThat(paths(three)).containsExactly("a", "a/y", "a/y/deep");
    assertThat(three.truncated()).isTrue();
    assertThat(files.list("", true, 10, 8).truncated()).isFalse();
    assertThat(paths(files.list("", true, 1, 100))).containsExactly("a", "a-c", "b", "ln", "out");
    assertThat(paths(files.list("a", true, 2, 100))).containsExactly("a/y", "a/y/deep", "a/z");
    assertThat(paths(files.list(".", false, 1, 100))).hasSize(5);
    expect(Kind.WRONG_FILE_TYPE, () -> files.list("b", false, 1, 10));
    expect(Kind.NOT_FOUND, () -> files.list("nope", false, 1, 10));
    expect(Kind.INVALID_ARGUMENT, () -> files.list("", false, 1, 0));
    expect(Kind.INVALID_ARGUMENT, () -> files.list("", true, 0, 10));
  }

  @Test
  void creatingAsTheOwnerLeavesTheThreadsIdsAndCapabilitiesAsTheyWere() throws Exception {
    String before = threadCredentials();
    upload("f", "x");
    files.makeDirectory("d/e", 0700, true);
    files.rename("f", "d/g", false);
    files.remove("d", true);
    assertThat(threadCredentials()).isEqualTo(before);
    assertThat(before).contains("Uid:\t0\t0\t0\t0");
  }

  /** The calling thread's uid, gid (real, effective, saved, filesystem) and capability sets. */
  private static String threadCredentials() throws IOException {
    return Files.readAllLines(Path.of("/proc/thread-self/status")).stream()
        .filter(l -> l.startsWith("Uid:") || l.startsWith("Gid:") || l.startsWith("Cap"))
        .collect(Collectors.joining("\n"));
  }

  @Test
  void listResumesAfterAPathPageByPage() throws Exception {
    Files.createDirectories(ws.resolve("a/y/q"));
    Files.writeString(ws.resolve("a/y/deep"), "d");
    Files.writeString(ws.resolve("a/y/q/r"), "r");
    Files.writeString(ws.resolve("a/z"), "z");
    Files.createDirectories(ws.resolve("a-c/e"));
    Files.writeString(ws.resolve("b"), "bb");
    Files.createDirectories(ws.resolve("c/d/e"));
    Files.createSymbolicLink(ws.resolve("ln"), Path.of("a"));
    for (int depth : new int[] {1, 2, 10}) {
      List<String> all = paths(files.list("", true, depth, 1000));
      for (int size = 1; size <= all.size() + 1; size++) {
        List<String> paged = new ArrayList<>();
        String after = "";
        for (int page = 0; page <= all.size(); page++) {
          Listing l = files.list("", true, depth, size, after);
          paged.addAll(paths(l));
          if (!l.truncated()) {
            break;
          }
          assertThat(l.entries()).as("a truncated page is never empty").isNotEmpty();
          after = l.entries().get(l.entries().size() - 1).path();
        }
        assertThat(paged).as("depth %d, pages of %d", depth, size).isEqualTo(all);
      }
    }
    assertThat(paths(files.list("a", true, 5, 2, "a/y/deep"))).containsExactly("a/y/q", "a/y/q/r");
    // a resume point that is gone resumes where it would sort
    assertThat(paths(files.list("", true, 5, 3, "a/y/gone"))).containsExactly("a/y/q", "a/y/q/r", "a/z");
    assertThat(paths(files.list("", false, 1, 10, "a-b"))).containsExactly("a-c", "b", "c", "ln");
    assertThat(files.list("", true, 5, 10, "zzz").entries()).isEmpty();
    expect(Kind.INVALID_ARGUMENT, () -> files.list("a", true, 5, 10, "b"));
    expect(Kind.INVALID_ARGUMENT, () -> files.list("a", true, 5, 10, "a"));
    expect(Kind.INVALID_ARGUMENT, () -> files.list("", true, 5, 10, "a//b"));
  }

  @Test
  void listOfAHugeDirectoryKeepsTheSmallestNames() throws Exception {
    Path big = Files.createDirectory(ws.resolve("big"));
    for (int i = 1999; i >= 0; i--) {
      Files.createFile(big.resolve(String.format("f%05d", i)));
    }
    Listing first = files.list("big", false, 1, 10);
    assertThat(paths(first)).containsExactly("big/f00000", "big/f00001", "big/f00002", "big/f00003",
        "big/f00004", "big/f00005", "big/f00006", "big/f00007", "big/f00008", "big/f00009");
    assertThat(first.truncated()).isTrue();
    Listing capped = files.list("", true, 2, Integer.MAX_VALUE);
    assertThat(capped.entries()).hasSize(2001);
    assertThat(capped.truncated()).isFalse();
  }

  // ---- chmod, stat, rename --------------------------------------------------------------------

  @Test
  void chmodChangesFilesAndDirectoriesOnly() throws Exception {
    upload("f", "x");
    Files.createDirectory(ws.resolve("d"));
    Files.createSymbolicLink(ws.resolve("link"), Path.of("../outside/secret"));
    Files.createSymbolicLink(ws.resolve("inlink"), Path.of("f"));
    assertThat(files.chmod("f", 0600).mode()).isEqualTo(0600);
    assertThat(files.chmod("d", 0711).mode()).isEqualTo(0711);
    assertOwnedWithMode(ws.resolve("f"), 0600);
    assertThat(mode(ws.resolve("d"))).isEqualTo(0711);
    expect(Kind.WRONG_FILE_TYPE, () -> files.chmod("link", 0777));
    expect(Kind.WRONG_FILE_TYPE, () -> files.chmod("inlink", 0777));
    assertThat(mode(ws.resolve("f"))).isEqualTo(0600);
    expect(Kind.INVALID_ARGUMENT, () -> files.chmod("f", 01777));
    expect(Kind.INVALID_ARGUMENT, () -> files.chmod("f", 04755));
    expect(Kind.INVALID_ARGUMENT, () -> files.chmod("f", 02755));
    expect(Kind.INVALID_ARGUMENT, () -> files.chmod("f", -1));
    expect(Kind.NOT_FOUND, () -> files.chmod("missing", 0644));
    int rootMode = mode(ws);
    assertThat(files.chmod("", 0750).mode()).isEqualTo(0750);
    files.chmod("", rootMode);
  }

  @Test
  void statDescribesWithoutFollowing() throws Exception {
    upload("f", "12345");
    assertThat(files.stat("f").orElseThrow()).satisfies(st -> {
      assertThat(st.path()).isEqualTo("f");
      assertThat(st.sizeBytes()).isEqualTo(5);
      assertThat(st.mode()).isEqualTo(0644);
      assertThat(st.modifyTime()).isEqualTo(Files.getLastModifiedTime(ws.resolve("f")).toInstant());
    });
    assertThat(files.stat("missing")).isEmpty();
    assertThat(files.stat("missing/deeper")).isEmpty();
    assertThat(files.stat("f/child")).isEmpty();
    assertThat(files.stat("").orElseThrow().isDirectory()).isTrue();
    assertThat(files.stat(".").orElseThrow().path()).isEmpty();
  }

  @Test
  void renameMovesEntriesBetweenDirectories() throws Exception {
    upload("a", "A");
    files.makeDirectory("d1/d2", 0755, true);
    FileStat moved = files.rename("a", "d1/d2/b", false);
    assertThat(moved.path()).isEqualTo("d1/d2/b");
    assertThat(read("d1/d2/b")).isEqualTo("A");
    upload("c", "C");
    expect(Kind.ALREADY_EXISTS, () -> files.rename("c", "d1/d2/b", false));
    files.rename("c", "d1/d2/b", true);
    assertThat(read("d1/d2/b")).isEqualTo("C");
    expect(Kind.NOT_FOUND, () -> files.rename("missing", "x", false));
    expect(Kind.INVALID_PATH, () -> files.rename("d1", "d1/d2/inside", false));
    expect(Kind.NOT_EMPTY, () -> files.rename(mkdirWithChild("e"), "d1", true));
    files.makeDirectory("empty", 0755, false);
    expect(Kind.WRONG_FILE_TYPE, () -> files.rename("d1/d2/b", "empty", true));
    expect(Kind.WRONG_FILE_TYPE, () -> files.rename("empty", "d1/d2/b", true));
    assertThat(files.rename("empty", "d1/d2/e2", false).isDirectory()).isTrue();
    expect(Kind.INVALID_PATH, () -> files.rename("", "x", false));
  }

  // ---- input validation and hygiene -----------------------------------------------------------

  @Test
  void invalidPathsAreRefusedBeforeAnySyscall() throws Exception {
    List<String> bad = new ArrayList<>(List.of(
        "/etc/passwd", "/", "..", "../x", "a/../b", "a/..", "./a", "a/./b", "a//b", "a/",
        "a\0b", "a\nb", "a\u007fb", "a\u001bb", "\t", "\uD800x"));
    bad.add("a/".repeat(2048));                  // 4096 bytes
    bad.add("x".repeat(256));                    // a 256-byte component
    bad.add("\u00e9".repeat(128));               // 256 bytes of UTF-8 in 128 chars
    for (String path : bad) {
      String shown = path.length() > 20 ? path.substring(0, 20) + "..." : path;
      for (ThrowingCall call : List.<ThrowingCall>of(
          () -> files.stat(path), () -> files.openRead(path), () -> files.list(path, true, 2, 10),
          () -> files.beginUpload(path, 0644, true, true), () -> files.makeDirectory(path, 0755, true),
          () -> files.remove(path, true), () -> files.rename(path, "ok", true),
          () -> files.rename("ok", path, true), () -> files.chmod(path, 0644))) {
        WorkspaceFileException e = expect(Kind.INVALID_PATH, call);
        assertThat(e.getMessage()).as(shown).doesNotContain("\0", "\n", "\u001b");
      }
    }
    expect(Kind.INVALID_PATH, () -> files.stat(null));
    // The longest accepted path and component are fine (just absent).
    assertThat(files.stat("a/".repeat(2047) + "b").isEmpty()).isTrue();
    assertThat(files.stat("x".repeat(255))).isEmpty();
    assertThat(files.makeDirectory("\u00e9t\u00e9 \u2603", 0755, false)).isTrue();
    assertThat(Files.isDirectory(ws.resolve("\u00e9t\u00e9 \u2603"))).isTrue();
  }

  @Test
  void noDescriptorLeaksOnSuccessOrFailure() throws Exception {
    Files.createSymbolicLink(ws.resolve("link"), Path.of("../outside/secret"));
    Files.createSymbolicLink(ws.resolve("mid"), Path.of("../outside"));
    exerciseEverything();
    int before = openDescriptors();
    for (int i = 0; i < 20; i++) {
      exerciseEverything();
    }
    assertThat(openDescriptors()).isEqualTo(before);
  }

  @Test
  void namesThatAreNotUtf8AreListedAndRemoved() throws Exception {
    Files.createDirectory(ws.resolve("odd"));
    int fd = SYS.open(ws.resolve("odd").toString(), O_PATH | O_DIRECTORY);
    try {
      byte[] name = {(byte) 0xff, 'x'};
      SYS.mkdirat(fd, name, 0755);
      int sub = SYS.openat2(fd, name, O_PATH | O_DIRECTORY, 0L);
      SYS.close(SYS.openat2(sub, new byte[] {(byte) 0xfe}, O_WRONLY | O_CREAT | O_EXCL, 0644, 0L));
      SYS.close(sub);
    } finally {
      SYS.close(fd);
    }
    assertThat(paths(files.list("odd", true, 3, 10))).containsExactly("odd/\uFFFDx", "odd/\uFFFDx/\uFFFD");
    files.remove("odd", true);
    assertThat(names(ws)).isEmpty();
  }

  @Test
  void theRootMustBeARealDirectory() throws Exception {
    Files.createSymbolicLink(temp.resolve("ws-link"), ws);
    try {
      WorkspaceRoot.open(temp.resolve("ws-link")).close();
      fail("opened a symlink as the workspace root");
    } catch (NativeException e) {
      assertThat(e.call()).isEqualTo("open");
    }
  }

  @Test
  void aClosedRootRefusesNewOperations() throws Exception {
    upload("f", "x");
    InputStream open = files.openRead("f");
    root.close();
    expect(Kind.IO, () -> files.stat("f"));
    assertThat(new String(open.readAllBytes(), UTF_8)).as("an open stream keeps working").isEqualTo("x");
    open.close();
  }

  @Test
  void fullWorkspaceAndMountPoints() throws Exception {
    Path small = Files.createDirectory(temp.resolve("small"));
    Path mnt = Files.createDirectory(ws.resolve("mnt"));
    mountTmpfs(small, "size=1m");
    try {
      mountTmpfs(mnt, "size=1m");
      try {
        Files.writeString(mnt.resolve("x"), "on another mount");
        // RESOLVE_NO_XDEV: a mount inside the workspace is never crossed.
        expect(Kind.ESCAPES_WORKSPACE, () -> files.openRead("mnt/x"));
        expect(Kind.ESCAPES_WORKSPACE, () -> files.list("mnt", false, 1, 10));
        expect(Kind.ESCAPES_WORKSPACE, () -> files.beginUpload("mnt/y", 0644, false, false));
        expect(Kind.ESCAPES_WORKSPACE, () -> files.makeDirectory("mnt/y", 0755, true));
        assertThat(paths(files.list("", true, 5, 10))).as("listed, never entered").containsExactly("mnt");
      } finally {
        umount(mnt);
      }
      try (WorkspaceRoot smallRoot = WorkspaceRoot.open(small)) {
        WorkspaceFiles tiny = new WorkspaceFiles(smallRoot, OWNER, OWNER, 8L << 20);
        Upload upload = tiny.beginUpload("fill.bin", 0644, false, false);
        WorkspaceFileException e = expect(Kind.NO_SPACE, () -> {
          for (int i = 0; i < 8; i++) {
            upload.write(new byte[256 * 1024]);
          }
        });
        assertThat(e.getMessage()).contains("fill.bin");
        assertThat(names(small)).as("aborted: temporary file removed").isEmpty();
      }
    } finally {
      umount(small);
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  @FunctionalInterface
  interface ThrowingCall {
    void run() throws Exception;
  }

  /** Runs {@code call}, expecting a {@link WorkspaceFileException} of {@code kind} with a tenant-safe message. */
  private WorkspaceFileException expect(Kind kind, ThrowingCall call) {
    try {
      call.run();
    } catch (WorkspaceFileException e) {
      assertThat(e.kind()).as("kind (message: %s)", e.getMessage()).isEqualTo(kind);
      assertThat(e.getMessage()).doesNotContain(temp.toString()).doesNotContain("errno");
      return e;
    } catch (Exception e) {
      throw new AssertionError("expected " + kind + ", got " + e, e);
    }
    return fail("expected " + kind + ", but the call succeeded");
  }

  /**
   * "OK" or the kind; only the kinds a tenant's racing can cause are accepted: ESCAPES_WORKSPACE,
   * NOT_FOUND and {@code alsoAllowed}.
   */
  private static String attempt(ThrowingCall call, Kind... alsoAllowed) throws Exception {
    try {
      call.run();
      return "OK";
    } catch (WorkspaceFileException e) {
      List<Kind> allowed = new ArrayList<>(List.of(alsoAllowed));
      allowed.add(Kind.ESCAPES_WORKSPACE);
      allowed.add(Kind.NOT_FOUND);
      assertThat(e.kind()).as(e.getMessage()).isIn(allowed);
      return e.kind().name();
    }
  }

  private void upload(String path, String content) throws Exception {
    try (Upload upload = files.beginUpload(path, 0644, true, false)) {
      upload.write(content.getBytes(UTF_8));
      upload.commit();
    }
  }

  private String read(String path) throws Exception {
    try (InputStream in = files.openRead(path)) {
      return new String(in.readAllBytes(), UTF_8);
    }
  }

  private String mkdirWithChild(String name) throws Exception {
    files.makeDirectory(name, 0755, false);
    upload(name + "/child", "c");
    return name;
  }

  private void exerciseEverything() throws Exception {
    files.makeDirectory("e/g", 0755, true);
    upload("e/f", "x");
    assertThat(read("e/f")).isEqualTo("x");
    files.stat("e/f");
    files.list("", true, 5, 100);
    files.chmod("e/f", 0600);
    files.rename("e/f", "e/h", true);
    expect(Kind.WRONG_FILE_TYPE, () -> files.openRead("link"));
    expect(Kind.ESCAPES_WORKSPACE, () -> files.openRead("mid/secret"));
    expect(Kind.ESCAPES_WORKSPACE, () -> files.beginUpload("mid/x", 0644, true, true));
    expect(Kind.WRONG_FILE_TYPE, () -> files.chmod("link", 0644));
    expect(Kind.WRONG_FILE_TYPE, () -> files.list("link", false, 1, 1));
    expect(Kind.ESCAPES_WORKSPACE, () -> files.rename("e", "mid/e", false));
    expect(Kind.ALREADY_EXISTS, () -> files.makeDirectory("e", 0755, false));
    expect(Kind.NOT_FOUND, () -> files.remove("nope/x", true));
    expect(Kind.ALREADY_EXISTS, () -> files.beginUpload("e/h", 0644, false, false));
    Upload aborted = files.beginUpload("e/u", 0644, false, false);
    aborted.write(new byte[10]);
    aborted.abort();
    files.remove("e", true);
  }

  private static List<String> paths(Listing listing) {
    return listing.entries().stream().map(FileStat::path).collect(Collectors.toList());
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private static int mode(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
  }

  private static void assertOwnedWithMode(Path p, int mode) throws IOException {
    assertThat((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).as("uid of %s", p).isEqualTo(OWNER);
    assertThat((Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).as("gid of %s", p).isEqualTo(OWNER);
    assertThat(mode(p)).as("mode of %s", p).isEqualTo(mode);
  }

  private static int openDescriptors() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return (int) s.count();
    }
  }

  /** Every entry under {@code dir}: type, size, mode, owner, mtime and content. */
  private static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        out.put(dir.relativize(p).toString(), snapshotFile(p));
      }
    }
    return out;
  }

  private static String snapshotFile(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return "absent";
    }
    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
    String content = Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
        ? HexFormat.of().formatHex(sha256(Files.readAllBytes(p))) : "";
    return a.get("mode") + " " + a.get("uid") + ":" + a.get("gid") + " " + a.get("size") + " "
        + a.get("lastModifiedTime") + " " + content;
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void mountTmpfs(Path at, String options) throws Exception {
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", at.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    if (p.waitFor() != 0) {
      String reason = "cannot mount a tmpfs here (" + out.strip() + ")";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true: " + reason);
      }
      System.out.println("SKIPPED: " + reason);
      Assumptions.abort(reason);
    }
  }

  private static void umount(Path at) throws Exception {
    new ProcessBuilder("umount", at.toString()).inheritIO().start().waitFor();
  }
}
