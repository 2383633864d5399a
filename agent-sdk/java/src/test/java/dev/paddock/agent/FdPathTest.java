package dev.paddock.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.Message;
import dev.paddock.ipc.agent.v1.Envelope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Agent#connect()} on a real inherited socket: Python makes a socketpair, starts a JVM
 * running {@link FdProbe} with one end as its fd 3 and {@code PADDOCK_IPC_FD=3}, and answers its
 * requests with hand-built frames. See {@link Launch} for the three ways the probe JVM starts.
 */
class FdPathTest {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  /** The host side: frames built by hand (4-byte length + protobuf), checking the ping's bytes. */
  private static final String HOST_SCRIPT = String.join("\n",
      "import os, socket, struct, subprocess, sys",
      "java, cp, main = sys.argv[1:4]",
      "jvm_args = sys.argv[4:]",
      "parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)",
      "cfd = child.fileno()",
      "def to_fd3():",
      "    os.dup2(cfd, 3)",
      "    os.set_inheritable(3, True)",
      "env = dict(os.environ, PADDOCK_IPC_FD='3')",
      "proc = subprocess.Popen([java] + jvm_args + ['-cp', cp, main, '200'], env=env,",
      "                        pass_fds=(3,), preexec_fn=to_fd3)",
      "child.close()",
      "def read_exact(n):",
      "    buf = b''",
      "    while len(buf) < n:",
      "        chunk = parent.recv(n - len(buf))",
      "        if not chunk:",
      "            if buf:",
      "                raise SystemExit('host: end of stream inside a frame')",
      "            return None",
      "        buf += chunk",
      "    return buf",
      "def varint(buf, i):",
      "    value = shift = 0",
      "    while True:",
      "        b = buf[i]; i += 1",
      "        value |= (b & 0x7f) << shift; shift += 7",
      "        if b < 0x80:",
      "            return value, i",
      "def enc(v):",
      "    out = b''",
      "    while v >= 0x80:",
      "        out += bytes([(v & 0x7f) | 0x80]); v >>= 7",
      "    return out + bytes([v])",
      "pings = progress = 0",
      "while True:",
      "    header = read_exact(4)",
      "    if header is None:",
      "        break",
      "    (n,) = struct.unpack('>I', header)",
      "    body = read_exact(n)",
      "    assert body[0] == 0x08, body",
      "    rid, i = varint(body, 1)",
      "    tag, i = varint(body, i)",
      "    length, i = varint(body, i)",
      "    payload = body[i:i + length]",
      "    if tag >> 3 == 10:",
      "        assert body == b'\\x08' + enc(rid) + b'\\x52\\x00', body",
      "        reply = b'\\x08' + enc(rid) + b'\\x92\\x03\\x00'",
      "        pings += 1",
      "    elif tag >> 3 == 11:",
      "        assert b'hello from java' in payload, payload",
      "        inner = b'\\x08' + enc(7)",
      "        reply = b'\\x08' + enc(rid) + b'\\x9a\\x03' + enc(len(inner)) + inner",
      "        progress += 1",
      "    else:",
      "        raise SystemExit('host: unexpected field %d' % (tag >> 3))",
      "    parent.sendall(struct.pack('>I', len(reply)) + reply)",
      "code = proc.wait(timeout=60)",
      "print('host: pings=%d progress=%d exit=%d' % (pings, progress, code), flush=True)",
      "sys.exit(code)");

  /** How the probe JVM is started. */
  enum Launch {
    /** As a tool runs: test class path, no flags (the descriptor is adopted through Unsafe). */
    PLAIN,
    /** With java.io opened, so plain reflection adopts it. */
    OPEN_JAVA_IO,
    /**
     * With only what the jail's paddock-agent.jar holds (dev/paddock/agent, dev/paddock/ipc/agent/v1,
     * com/google/protobuf), to prove the SDK needs nothing else.
     */
    JAIL_JAR_ONLY
  }

  @ParameterizedTest
  @EnumSource(Launch.class)
  void connectsOnARealInheritedSocket(Launch launch, @TempDir Path dir) throws Exception {
    boolean openJavaIo = launch == Launch.OPEN_JAVA_IO;
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) {
      Assumptions.abort("inherited AF_UNIX descriptors and /proc/self/fd need Linux; this is " + os);
    }
    if (!Files.isExecutable(PYTHON)) {
      fail(PYTHON + " is needed for the fd-path test (the project's setup installs it)");
    }
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> command = new ArrayList<>(List.of(
        PYTHON.toString(), "-c", HOST_SCRIPT,
        java, launch == Launch.JAIL_JAR_ONLY ? jailJar(dir).toString() : System.getProperty("java.class.path"),
        FdProbe.class.getName()));
    if (openJavaIo) {
      command.add("--add-opens=java.base/java.io=ALL-UNNAMED");
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    Thread drain = new Thread(() -> {
      try (InputStream in = process.getInputStream()) {
        in.transferTo(output);
      } catch (IOException ignored) {
        // The process ended.
      }
    });
    drain.start();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("the python host or the probe JVM hung");
    }
    drain.join(10_000);
    String text = output.toString(StandardCharsets.UTF_8);
    assertThat(process.exitValue()).as(text).isZero();
    assertThat(text)
        .contains("probe: adopted by " + (openJavaIo ? "reflection" : "unsafe"))
        .contains("probe: ping ok")
        .contains("probe: sequence=7")
        .contains("probe: 200 pings")
        .contains("probe: closed")
        .contains("host: pings=201 progress=1 exit=0");
  }

  /**
   * A jar with what the host mounts in a jail as paddock-agent.jar, plus {@link FdProbe} (which is
   * in dev/paddock/agent too), taken from wherever this JVM loaded those classes.
   */
  private static Path jailJar(Path dir) throws Exception {
    Path jar = dir.resolve("paddock-agent.jar");
    List<String> prefixes = List.of("dev/paddock/agent/", "dev/paddock/ipc/agent/v1/", "com/google/protobuf/");
    Set<String> written = new HashSet<>();
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      for (Class<?> from : List.of(Agent.class, FdProbe.class, Envelope.class, Message.class)) {
        Path source = Path.of(from.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isDirectory(source)) {
          try (Stream<Path> files = Files.walk(source)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
              String name = source.relativize(file).toString().replace('\\', '/');
              copy(out, prefixes, written, name, Files.readAllBytes(file));
            }
          }
        } else {
          try (JarFile in = new JarFile(source.toFile())) {
            for (JarEntry entry : Collections.list(in.entries())) {
              if (!entry.isDirectory()) {
                try (InputStream bytes = in.getInputStream(entry)) {
                  copy(out, prefixes, written, entry.getName(), bytes.readAllBytes());
                }
              }
            }
          }
        }
      }
    }
    assertThat(written).anyMatch(n -> n.startsWith("com/google/protobuf/"))
        .anyMatch(n -> n.startsWith("dev/paddock/ipc/agent/v1/"))
        .contains("dev/paddock/agent/Agent.class", "dev/paddock/agent/FdProbe.class");
    return jar;
  }

  private static void copy(JarOutputStream out, List<String> prefixes, Set<String> written, String name,
      byte[] bytes) throws Exception {
    if (prefixes.stream().anyMatch(name::startsWith) && written.add(name)) {
      out.putNextEntry(new JarEntry(name));
      out.write(bytes);
      out.closeEntry();
    }
  }
}
