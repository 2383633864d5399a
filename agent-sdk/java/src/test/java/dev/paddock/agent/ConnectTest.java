package dev.paddock.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Agent#connect()} where there is no channel; the real one is {@link FdPathTest}. */
class ConnectTest {
  @Test
  void noVariableMeansNoChannel() {
    assertThatThrownBy(() -> Agent.connect(Map.of()))
        .isInstanceOf(NoChannelException.class)
        .hasMessageContaining("PADDOCK_IPC_FD")
        .hasMessageContaining("ExecRequest.ipc = true");
  }

  @Test
  void connectReadsTheProcessEnvironment() {
    assumeTrue(System.getenv(Agent.FD_ENV) == null, "this test JVM has PADDOCK_IPC_FD set");
    assertThatThrownBy(Agent::connect)
        .isInstanceOf(NoChannelException.class)
        .hasMessageContaining("ExecRequest.ipc = true");
  }

  @Test
  void notANumberOrNotOpenMeansNoChannel() {
    assertThatThrownBy(() -> Agent.connect(Map.of(Agent.FD_ENV, "three")))
        .isInstanceOf(NoChannelException.class)
        .hasMessageContaining("three");
    assertThatThrownBy(() -> Agent.connect(Map.of(Agent.FD_ENV, "-1"))).isInstanceOf(NoChannelException.class);
    assertThatThrownBy(() -> Agent.connect(Map.of(Agent.FD_ENV, "1000123")))
        .isInstanceOf(NoChannelException.class)
        .hasMessageContaining("not open");
  }

  @Test
  void aDescriptorThatIsNotASocketMeansNoChannel(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("not-a-socket");
    Files.write(file, new byte[] {1});
    try (RandomAccessFile open = new RandomAccessFile(file.toFile(), "r")) {
      int fd = findFd(file);
      assertThatThrownBy(() -> Agent.connect(Map.of(Agent.FD_ENV, Integer.toString(fd))))
          .isInstanceOf(NoChannelException.class)
          .hasMessageContaining("not a socket");
      assertThat(open.read()).as("the descriptor was left alone").isEqualTo(1);
    }
  }

  @Test
  void frameLimitFromTheEnvironment() {
    assertThat(Agent.maxFrame(null)).isEqualTo(4194304);
    assertThat(Agent.maxFrame("65536")).isEqualTo(65536);
    assertThat(Agent.maxFrame(" 1024 ")).isEqualTo(1024);
    assertThat(Agent.maxFrame("0")).isEqualTo(4194304);
    assertThat(Agent.maxFrame("lots")).isEqualTo(4194304);
  }

  private static int findFd(Path file) throws IOException {
    Path fds = Path.of("/proc/self/fd");
    assumeTrue(Files.isDirectory(fds), "needs /proc");
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
      for (Path entry : entries) {
        try {
          if (Files.readSymbolicLink(entry).equals(file.toRealPath())) {
            return Integer.parseInt(entry.getFileName().toString());
          }
        } catch (IOException e) {
          // Gone meanwhile (the directory stream's own descriptor, say).
        }
      }
    }
    throw new AssertionError("no descriptor for " + file);
  }
}
