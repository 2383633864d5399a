package dev.paddock.sandbox.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LinuxSyscalls#system()} against the real kernel: seqpacket frames with descriptors, pipes,
 * posix_spawn, pidfds and epoll. Every test checks that it leaves no descriptor open.
 */
class JnrLinuxSyscallsTest {
  private static final int MIB = 1 << 20;
  private static final int O_CLOEXEC = 02000000;
  private static final int O_NONBLOCK = 04000;

  private final LinuxSyscalls linux = LinuxSyscalls.system();
  private final List<Fd> opened = new ArrayList<>();
  private Set<String> fdsBefore;

  @BeforeAll
  static void onLinux() {
    assumeTrue(System.getProperty("os.name").startsWith("Linux"), "needs a Linux kernel");
  }

  @BeforeEach
  void recordDescriptors() throws IOException {
    fdsBefore = openDescriptors();
  }

  @AfterEach
  void closeAndCheckForLeaks() throws Exception {
    opened.forEach(linux::close);
    // Other JVM threads open files briefly too (the JVM re-reads its cgroup's memory limit, for
    // one): only a descriptor that is there now, was not before, and stays, is a leak.
    Set<String> added = added();
    for (int i = 0; i < 25 && !added.isEmpty(); i++) {
      Thread.sleep(20);
      added = added();
    }
    assertThat(added).as("descriptors left open").isEmpty();
  }

  private Set<String> added() throws IOException {
    Set<String> now = new java.util.TreeSet<>(openDescriptors());
    now.removeAll(fdsBefore);
    return now;
  }

  // ---- frames -----------------------------------------------------------------------------------

  @Test
  void aFrameWithThreePipesRoundTripsAndTheReceivedPipesWork() throws Exception {
    Fd[] pair = track(linux.seqpacketPair(MIB));
    assertThat(flags(pair[0]) & O_NONBLOCK).as("host end non-blocking").isNotZero();
    assertThat(flags(pair[1]) & O_NONBLOCK).as("child end blocking").isZero();
    Fd[][] pipes = {track(linux.pipe()), track(linux.pipe()), track(linux.pipe())};
    for (Fd fd : List.of(pair[0], pair[1], pipes[0][0], pipes[0][1])) {
      assertThat(flags(fd) & O_CLOEXEC).as("close-on-exec " + fd).isNotZero();
    }

    byte[] frame = "spawn please".getBytes(StandardCharsets.UTF_8);
    linux.sendFrame(pair[0], frame, List.of(pipes[0][1], pipes[1][1], pipes[2][1]));
    ReceivedFrame got = linux.receiveFrame(pair[1], 4096, 3).orElseThrow();
    track(got.fds());

    assertThat(got.data()).isEqualTo(frame);
    assertThat(got.truncated()).isFalse();
    assertThat(got.eof()).isFalse();
    assertThat(got.fds()).hasSize(3);
    for (int i = 0; i < 3; i++) {
      Fd received = got.fds().get(i);
      assertThat(flags(received) & O_CLOEXEC).as("received fds are close-on-exec").isNotZero();
      byte[] message = ("through pipe " + i).getBytes(StandardCharsets.UTF_8);
      assertThat(linux.write(received, message, 0, message.length)).isEqualTo(message.length);
      byte[] buf = new byte[64];
      int n = linux.read(pipes[i][0], buf, 0, buf.length);
      assertThat(new String(buf, 0, n, StandardCharsets.UTF_8)).isEqualTo("through pipe " + i);
    }
  }

  @Test
  void aOneMebibyteFrameGoesFromHostToChildInOneRecord() throws Exception {
    Fd[] pair = track(linux.seqpacketPair(MIB));
    byte[] frame = new byte[MIB];
    new Random(7).nextBytes(frame);

    linux.sendFrame(pair[0], frame, List.of());
    ReceivedFrame got = linux.receiveFrame(pair[1], MIB, 1).orElseThrow();

    assertThat(got.truncated()).isFalse();
    assertThat(got.fds()).isEmpty();
    assertThat(Arrays.equals(got.data(), frame)).as("1 MiB arrived intact").isTrue();
  }

  @Test
  void aFrameLargerThanTheSendBufferIsRefusedWithEmsgsize() throws Exception {
    Fd[] pair = track(linux.seqpacketPair(64 * 1024));
    assertThatThrownBy(() -> linux.sendFrame(pair[0], new byte[4 * MIB], List.of()))
        .isInstanceOfSatisfying(NativeException.class,
            e -> assertThat(e.errno()).isEqualTo(Errno.EMSGSIZE));
  }

  @Test
  void aRecordLongerThanMaxBytesComesBackTruncated() throws Exception {
    Fd[] pair = track(linux.seqpacketPair(MIB));
    byte[] frame = new byte[100];
    Arrays.fill(frame, (byte) 'x');
    linux.sendFrame(pair[1], frame, List.of());

    ReceivedFrame got = linux.receiveFrame(pair[0], 10, 1).orElseThrow();

    assertThat(got.truncated()).isTrue();
    assertThat(got.eof()).isFalse();
    assertThat(got.data()).hasSize(10);
    // The rest of the record is gone: SEQPACKET discards it.
    assertThat(linux.receiveFrame(pair[0], 4096, 1)).isEmpty();
  }

  @Test
  void descriptorsBeyondMaxFdsMarkTheFrameTruncatedAndTheOnesThatArrivedAreReturned()
      throws Exception {
    Fd[] pair = track(linux.seqpacketPair(MIB));
    Fd[][] pipes = {track(linux.pipe()), track(linux.pipe()), track(linux.pipe())};
    List<Fd> writeEnds = List.of(pipes[0][1], pipes[1][1], pipes[2][1]);

    linux.sendFrame(pair[1], new byte[] {1}, writeEnds);
    ReceivedFrame one = linux.receiveFrame(pair[0], 16, 1).orElseThrow();
    track(one.fds());
    assertThat(one.truncated()).isTrue();
    assertThat(one.fds()).hasSize(1);
    assertThat(linux.write(one.fds().get(0), new byte[] {9}, 0, 1)).isEqualTo(1);
    byte[] buf = new byte[1];
    assertThat(linux.read(pipes[0][0], buf, 0, 1)).isEqualTo(1);
    assertThat(buf[0]).isEqualTo((byte) 9);

    linux.sendFrame(pair[1], new byte[] {2}, writeEnds);
    ReceivedFrame none = linux.receiveFrame(pair[0], 16, 0).orElseThrow();
    assertThat(none.truncated()).isTrue();
    assertThat(none.fds()).isEmpty();
    assertThat(none.data()).containsExactly(2);
  }

  @Test
  void anEmptyNonBlockingEndGivesNothingAndAClosedPeerGivesEof() throws Exception {
    Fd[] pair = track(linux.seqpacketPair(MIB));
    assertThat(linux.receiveFrame(pair[0], 4096, 1)).isEmpty();

    // A zero-length record from a live peer is a record, not end of stream.
    linux.sendFrame(pair[1], new byte[0], List.of());
    ReceivedFrame empty = linux.receiveFrame(pair[0], 4096, 1).orElseThrow();
    assertThat(empty.data()).isEmpty();
    assertThat(empty.eof()).isFalse();

    // Records queued before the peer closed still arrive, then end of stream.
    linux.sendFrame(pair[1], new byte[0], List.of());
    linux.sendFrame(pair[1], new byte[] {5}, List.of());
    linux.close(pair[1]);
    assertThat(linux.receiveFrame(pair[0], 4096, 1).orElseThrow().eof()).isFalse();
    assertThat(linux.receiveFrame(pair[0], 4096, 1).orElseThrow().data()).containsExactly(5);
    ReceivedFrame end = linux.receiveFrame(pair[0], 4096, 1).orElseThrow();
    assertThat(end.eof()).isTrue();
    assertThat(end.data()).isEmpty();
    assertThat(linux.pollReadable(List.of(pair[0]), 0)).containsExactly(true);

    assertThatThrownBy(() -> linux.sendFrame(pair[0], new byte[] {1}, List.of()))
        .isInstanceOfSatisfying(NativeException.class,
            e -> assertThat(e.errno()).isIn(Errno.EPIPE, Errno.ECONNRESET));

    // A peer that closes with our records unread makes recvmsg fail with ECONNRESET: also eof.
    Fd[] other = track(linux.seqpacketPair(MIB));
    linux.sendFrame(other[0], new byte[] {1}, List.of());
    linux.close(other[1]);
    assertThat(linux.receiveFrame(other[0], 16, 1).orElseThrow().eof()).isTrue();
    assertThat(linux.receiveFrame(other[0], 16, 1).orElseThrow().eof()).isTrue();
  }

  // ---- pipes and descriptors --------------------------------------------------------------------

  @Test
  void readAndWriteHonourOffsetsAndNonBlockingReadsReturnMinusOne() throws Exception {
    Fd[] pipe = track(linux.pipe());
    byte[] out = "..abc..".getBytes(StandardCharsets.US_ASCII);
    assertThat(linux.write(pipe[1], out, 2, 3)).isEqualTo(3);
    byte[] in = new byte[8];
    Arrays.fill(in, (byte) '-');
    assertThat(linux.pollReadable(List.of(pipe[0]), 1000)).containsExactly(true);
    assertThat(linux.read(pipe[0], in, 4, 4)).isEqualTo(3);
    assertThat(new String(in, StandardCharsets.US_ASCII)).isEqualTo("----abc-");

    assertThat(linux.pollReadable(List.of(pipe[0]), 20)).containsExactly(false);
    linux.setNonBlocking(pipe[0], true);
    assertThat(flags(pipe[0]) & O_NONBLOCK).isNotZero();
    assertThat(linux.read(pipe[0], in, 0, in.length)).isEqualTo(-1);
    linux.setNonBlocking(pipe[0], false);
    assertThat(flags(pipe[0]) & O_NONBLOCK).isZero();

    assertThat(linux.pollWritable(pipe[1], 0)).isTrue();
    linux.close(pipe[1]);
    assertThat(linux.pollReadable(List.of(pipe[0]), 1000)).containsExactly(true);
    assertThat(linux.read(pipe[0], in, 0, in.length)).isZero();
  }

  @Test
  void writingToAPipeWithoutReaderThrowsEpipeAndTheJvmLivesOn() throws Exception {
    Fd[] pipe = track(linux.pipe());
    linux.close(pipe[0]);
    assertThatThrownBy(() -> linux.write(pipe[1], new byte[] {1}, 0, 1))
        .isInstanceOfSatisfying(NativeException.class, e -> {
          assertThat(e.errno()).isEqualTo(Errno.EPIPE);
          assertThat(e.call()).isEqualTo("write");
        });
    assertThat(linux.pollWritable(pipe[1], 0)).as("a write fails at once").isTrue();
    Thread.sleep(20); // a SIGPIPE that killed the JVM would have done so by now
    assertThat(linux.pipe()).satisfies(this::track).hasSize(2);
  }

  @Test
  void closingTwiceIsHarmlessAndAClosedFdHasNoNumber() throws Exception {
    Fd[] pipe = linux.pipe();
    pipe[0].close();
    pipe[0].close();
    linux.close(pipe[0]);
    assertThat(pipe[0].isOpen()).isFalse();
    assertThatThrownBy(pipe[0]::number).isInstanceOf(IllegalStateException.class);
    linux.close(pipe[1]);
    linux.close(pipe[1]);
  }

  @Test
  void openReadsFilesAndDirectoriesAndReportsErrno(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "data");
    Fd fd = track(linux.open(file, false));
    byte[] buf = new byte[16];
    assertThat(linux.read(fd, buf, 0, buf.length)).isEqualTo(4);
    assertThat(flags(fd) & O_CLOEXEC).isNotZero();
    track(linux.open(dir, true));
    assertThatThrownBy(() -> linux.open(file, true))
        .isInstanceOfSatisfying(NativeException.class,
            e -> assertThat(e.errno()).isEqualTo(Errno.ENOTDIR));
    assertThatThrownBy(() -> linux.open(dir.resolve("missing"), false))
        .isInstanceOfSatisfying(NativeException.class,
            e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
  }

  // ---- processes --------------------------------------------------------------------------------

  @Test
  void spawnGivesTheChildExactlyItsDescriptorsANewSessionAndAReapableExit() throws Exception {
    Fd[] out = track(linux.pipe());
    Fd[] pair = track(linux.seqpacketPair(MIB));
    List<Fd> childFds = Arrays.asList(null, out[1], null, pair[1]);

    long pid = linux.spawn(
        List.of("/bin/sh", "-c", "echo $$; ls /proc/$$/fd; echo done; exec /bin/sleep 0.2"),
        childFds);
    Fd pidfd = track(linux.pidfdOpen(pid));
    linux.close(out[1]); // the child holds the only write end now

    String output = readUntil(out[0], "done\n");
    List<String> lines = output.lines().toList();
    assertThat(Long.parseLong(lines.get(0))).isEqualTo(pid);
    assertThat(lines.subList(1, lines.size())).containsExactly("0", "1", "2", "3", "done");
    assertThat(linux.pidOf(pidfd)).contains(pid);

    // Seen from here, while it sleeps: a session leader with the descriptors it was given.
    // (Not the whole fd list: sleep's dynamic loader briefly opens libraries after exec.)
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    assertThat(Long.parseLong(fields[3])).as("sid (field 6)").isEqualTo(pid);
    assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/0"))).hasToString("/dev/null");
    assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/2"))).hasToString("/dev/null");
    assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/3")).toString())
        .isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/fd/" + pair[1].number())).toString());

    assertThat(linux.reap(pidfd)).as("still running").isEmpty();
    assertThat(linux.pollReadable(List.of(pidfd), 5000)).containsExactly(true);
    assertThat(linux.reap(pidfd)).contains(new ExitStatus(0, 0));
    assertThat(linux.pidOf(pidfd)).as("reaped").isEmpty();
    assertThat(readUntil(out[0], null)).isEmpty();
  }

  @Test
  void spawnSurvivesSourceDescriptorsThatCollideWithTargets() throws Exception {
    Fd[] out = track(linux.pipe());
    Fd[] a = track(linux.pipe());
    Fd[] b = track(linux.pipe());
    // a's write end goes to the last slot, b's write end to the slot numbered like a's: a naive
    // dup2 sequence would overwrite a's source before copying it.
    int last = Math.max(a[1].number(), b[1].number()) + 1;
    List<Fd> childFds = new ArrayList<>(Collections.nCopies(last + 1, null));
    childFds.set(1, out[1]);
    childFds.set(a[1].number(), b[1]);
    childFds.set(last, a[1]);

    // The shell lists its own descriptors (ls runs as its child; the shell execs nothing).
    long pid = linux.spawn(List.of("/bin/sh", "-c", "ls -l /proc/$$/fd; echo done"), childFds);
    Fd pidfd = track(linux.pidfdOpen(pid));
    linux.close(out[1]);
    Map<Integer, String> links = new TreeMap<>();
    for (String line : readUntil(out[0], "done\n").lines().toList()) {
      Matcher m = Pattern.compile(" (\\d+) -> (.*)$").matcher(line);
      if (m.find()) {
        links.put(Integer.parseInt(m.group(1)), m.group(2));
      }
    }

    assertThat(links.keySet()).containsExactlyElementsOf(
        IntStream.rangeClosed(0, last).boxed().toList());
    assertThat(links.get(last)).isEqualTo(link(-1, a[1].number()));
    assertThat(links.get(a[1].number())).isEqualTo(link(-1, b[1].number()));
    assertThat(links.get(1)).isEqualTo(link(-1, out[0].number()));
    assertThat(links.get(0)).isEqualTo("/dev/null");
    assertThat(linux.pollReadable(List.of(pidfd), 5000)).containsExactly(true);
    assertThat(linux.reap(pidfd)).contains(new ExitStatus(0, 0));
  }

  @Test
  void aChildKilledThroughItsPidfdReapsAsSignalled() throws Exception {
    long pid = linux.spawn(List.of("/bin/sleep", "10"), Arrays.asList(null, null, null));
    Fd pidfd = track(linux.pidfdOpen(pid));
    assertThat(linux.pidOf(pidfd)).contains(pid);
    assertThat(linux.pollReadable(List.of(pidfd), 0)).containsExactly(false);
    // Nothing of the JVM's: no environment, no blocked or ignored signal, a session of its own.
    assertThat(Files.readAllBytes(Path.of("/proc/" + pid + "/environ"))).isEmpty();
    assertThat(statusField(pid, "SigBlk")).matches("0+");
    assertThat(statusField(pid, "SigIgn")).matches("0+");

    linux.signal(pidfd, Signal.SIGTERM);

    assertThat(linux.pollReadable(List.of(pidfd), 5000)).containsExactly(true);
    ExitStatus status = linux.reap(pidfd).orElseThrow();
    assertThat(status.signaled()).isTrue();
    assertThat(status.signal()).isEqualTo(15);
    assertThat(status.exitCode()).isZero();
    assertThatThrownBy(() -> linux.signal(pidfd, Signal.SIGTERM))
        .isInstanceOfSatisfying(NativeException.class,
            e -> assertThat(e.errno()).isEqualTo(Errno.ESRCH));
  }

  @Test
  void aNonZeroExitCodeIsReported() throws Exception {
    long pid = linux.spawn(List.of("/bin/sh", "-c", "exit 7"), List.of());
    Fd pidfd = track(linux.pidfdOpen(pid));
    assertThat(linux.pollReadable(List.of(pidfd), 5000)).containsExactly(true);
    assertThat(linux.reap(pidfd)).contains(new ExitStatus(7, 0));
  }

  @Test
  void spawningAMissingProgramFailsWithEnoentAndLeaksNothing() throws Exception {
    Fd[] pipe = track(linux.pipe());
    assertThatThrownBy(() -> linux.spawn(List.of("/nonexistent/prog"), List.of(pipe[0], pipe[1])))
        .isInstanceOfSatisfying(NativeException.class, e -> {
          assertThat(e.errno()).isEqualTo(Errno.ENOENT);
          assertThat(e.call()).isEqualTo("posix_spawn");
        });
    assertThatThrownBy(() -> linux.spawn(List.of("sh"), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- epoll ------------------------------------------------------------------------------------

  @Test
  void epollReportsTheTokenOfAReadableSocketAndTimesOutOtherwise() throws Exception {
    Fd epoll = track(linux.epollCreate());
    assertThat(flags(epoll) & O_CLOEXEC).isNotZero();
    Fd[] pair = track(linux.seqpacketPair(MIB));
    Fd[] quiet = track(linux.seqpacketPair(MIB));
    linux.epollAdd(epoll, pair[0], 0x1234_5678_9abcL);
    linux.epollAdd(epoll, quiet[0], 7);
    long[] tokens = new long[4];

    assertThat(linux.epollWait(epoll, tokens, 20)).isZero();

    linux.sendFrame(pair[1], new byte[] {1}, List.of());
    assertThat(linux.epollWait(epoll, tokens, 1000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(0x1234_5678_9abcL);
    assertThat(linux.epollWait(epoll, tokens, 0)).as("level-triggered").isEqualTo(1);

    linux.epollRemove(epoll, pair[0]);
    linux.epollRemove(epoll, pair[0]); // not registered any more: ignored
    assertThat(linux.epollWait(epoll, tokens, 0)).isZero();

    linux.close(quiet[1]); // hang-up counts as ready
    assertThat(linux.epollWait(epoll, tokens, 1000)).isEqualTo(1);
    assertThat(tokens[0]).isEqualTo(7);
    linux.close(quiet[0]);
    linux.epollRemove(epoll, quiet[0]); // closed: ignored
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private Fd track(Fd fd) {
    opened.add(fd);
    return fd;
  }

  private Fd[] track(Fd[] fds) {
    opened.addAll(Arrays.asList(fds));
    return fds;
  }

  private void track(List<Fd> fds) {
    opened.addAll(fds);
  }

  /** Reads {@code fd} until the output ends with {@code end} (or end of file when null). */
  private String readUntil(Fd fd, String end) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (end == null || !out.toString(StandardCharsets.UTF_8).endsWith(end)) {
      assertThat(System.nanoTime()).as("output in time").isLessThan(deadline);
      if (!linux.pollReadable(List.of(fd), 100)[0]) {
        continue;
      }
      int n = linux.read(fd, buf, 0, buf.length);
      if (n == 0) {
        break;
      }
      out.write(buf, 0, n);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The {@code flags:} of {@code fd} from /proc/self/fdinfo (octal open flags). */
  private static int flags(Fd fd) throws IOException {
    return Integer.parseInt(
        fdinfoField(Path.of("/proc/self/fdinfo/" + fd.number()), "flags:"), 8);
  }

  private static String statusField(long pid, String name) throws IOException {
    return fdinfoField(Path.of("/proc/" + pid + "/status"), name + ":");
  }

  private static String fdinfoField(Path file, String prefix) throws IOException {
    return Files.readAllLines(file).stream()
        .filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length()).trim())
        .findFirst()
        .orElseThrow(() -> new AssertionError(prefix + " not in " + file));
  }

  /** Where descriptor {@code fd} of process {@code pid} (-1 = this one) points. */
  private static String link(long pid, int fd) throws IOException {
    String proc = pid < 0 ? "self" : Long.toString(pid);
    return Files.readSymbolicLink(Path.of("/proc/" + proc + "/fd/" + fd)).toString();
  }

  private static Set<String> openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      // The listing's own directory descriptor differs between calls; links resolve the rest.
      return fds.map(JnrLinuxSyscallsTest::describe)
          .flatMap(Optional::stream)
          .filter(s -> !s.contains("/proc/") || !s.endsWith("/fd"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static Optional<String> describe(Path fd) {
    try {
      return Optional.of(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
    } catch (IOException gone) {
      return Optional.empty(); // closed since the listing
    }
  }
}
