package dev.paddock.runtime;

import dev.paddock.sandbox.jail.JailConfig.SdkMount;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-jail SDKs (module agent-sdk), laid out at host start from the host's own classpath and
 * mounted read-only into every jail as {@value #ROOT}, so a tool imports them with no install step:
 * <ul>
 *   <li>{@value #PYTHON_DIR}: the Python package {@code paddock_agent} and its generated messages;
 *   <li>{@value #PYTHON_DEPS_DIR}: a copy of the protobuf runtime for the jail's Python, when the
 *       operator gives one (scripts/setup installs it under .paddock/tools/python-protobuf);
 *   <li>{@value #JAVA_JAR}: one jar with the Java SDK, its messages and protobuf-java.
 * </ul>
 * Every exec's environment names them: PYTHONPATH and PADDOCK_AGENT_JAR.
 *
 * <p>Where: a fresh directory in {@code /run/paddock} (else {@code /var/lib/paddock}), root's own
 * and writable by nobody else, not in the data directory. nsjail makes its bind mounts inside the
 * jail's user namespace, as the sandbox uid, so every directory on the way to a mount's source must
 * be searchable by that uid, and a data directory may well be 0700 (mktemp -d). Not the system temp
 * directory either: anyone may create names there, and a name the host had used and lost (to a
 * tmp cleaner) could be taken over and mounted into every tenant's jail. The directory is removed
 * when the host closes, and a dead host's by the next host on the same data directory.
 */
final class AgentSdks {
  private static final Logger log = LoggerFactory.getLogger(AgentSdks.class);
  static final String ROOT = "/opt/paddock";
  static final String PYTHON_DIR = ROOT + "/python";
  static final String PYTHON_DEPS_DIR = ROOT + "/python-deps";
  static final String JAVA_JAR = ROOT + "/java/paddock-agent.jar";
  private static final String DIR_PREFIX = "paddock-sdk-";
  /** Names the data directory a layout belongs to, so the next host can remove a dead one's. */
  private static final String OWNER_FILE = ".data-dir";
  private static final String PYTHON_PREFIX = "dev/paddock/agent/python/";
  /** Classpath trees that make up the Java SDK jar: a resource in each, and the prefix to take. */
  private static final List<String[]> JAVA_TREES = List.of(
      new String[] {"dev/paddock/agent/Agent.class", "dev/paddock/agent/"},
      new String[] {"dev/paddock/ipc/agent/v1/Envelope.class", "dev/paddock/ipc/agent/v1/"},
      new String[] {"com/google/protobuf/Message.class", "com/google/protobuf/"});

  /**
   * What was installed.
   *
   * @param dir    the layout on the host (null when nothing could be laid out); remove with {@link #remove}
   * @param mounts what every jail mounts
   * @param env    variables every exec gets
   */
  record Installed(Path dir, List<SdkMount> mounts, Map<String, String> env) {}

  private AgentSdks() {}

  /**
   * Lays the SDKs out for the host on {@code dataDir}, first removing what a dead host on it left.
   * {@code pythonRuntime}, when not null and a directory, is copied in as the Python protobuf
   * runtime. An SDK that cannot be laid out is left out with an error in the log: the host still
   * runs tools, only without it.
   */
  static Installed install(Path dataDir, Path pythonRuntime) {
    Path tmp;
    Path dir;
    try {
      tmp = privateParent();
      removeLeftovers(tmp, dataDir);
      dir = Files.createTempDirectory(tmp, DIR_PREFIX);
      Files.writeString(dir.resolve(OWNER_FILE), dataDir.toAbsolutePath().normalize().toString());
    } catch (IOException e) {
      log.error("cannot prepare a directory for the in-jail SDKs; jails get none", e);
      return new Installed(null, List.of(), Map.of());
    }
    Map<String, String> env = new LinkedHashMap<>();
    List<String> pythonPath = new ArrayList<>();
    try {
      Path python = dir.resolve("python");
      copyTree(PYTHON_PREFIX + "paddock_agent/__init__.py", PYTHON_PREFIX, (name, in) -> write(python.resolve(name), in));
      pythonPath.add(PYTHON_DIR);
    } catch (IOException | UncheckedIOException e) {
      log.error("cannot lay out the Python agent SDK; jails get none", e);
    }
    if (pythonRuntime != null && Files.isDirectory(pythonRuntime.resolve("google/protobuf"))) {
      try {
        copyDirectory(pythonRuntime, dir.resolve("python-deps"));
        pythonPath.add(PYTHON_DEPS_DIR);
      } catch (IOException | UncheckedIOException e) {
        log.error("cannot copy the Python protobuf runtime from {}; jails get none", pythonRuntime, e);
      }
    } else if (!pythonPath.isEmpty()) {
      log.warn("no Python protobuf runtime ({}): the Python agent SDK works only where the jail's python3 has"
          + " protobuf 7.x; run scripts/setup or pass --python-protobuf", pythonRuntime);
    }
    if (!pythonPath.isEmpty()) {
      env.put("PYTHONPATH", String.join(":", pythonPath));
    }
    try {
      Path java = dir.resolve("java");
      Files.createDirectories(java);
      writeJavaJar(java.resolve("paddock-agent.jar"));
      env.put("PADDOCK_AGENT_JAR", JAVA_JAR);
    } catch (IOException | UncheckedIOException e) {
      log.error("cannot build the Java agent SDK jar; jails get none", e);
    }
    readOnly(dir);
    return new Installed(dir, List.of(new SdkMount(dir, ROOT)), env);
  }

  /**
   * {@code /run/paddock}, else {@code /var/lib/paddock}, made 0755 if missing; refused unless it is
   * a real directory (not a link) owned by root that no one else may write.
   */
  private static Path privateParent() throws IOException {
    IOException last = new IOException("neither /run nor /var/lib exists");
    for (Path base : List.of(Path.of("/run"), Path.of("/var/lib"))) {
      if (!Files.isDirectory(base)) {
        continue;
      }
      Path parent = base.resolve("paddock");
      try {
        if (!Files.exists(parent, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectory(parent);
          Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        var attributes = Files.readAttributes(parent, java.nio.file.attribute.PosixFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS);
        Object uid = Files.getAttribute(parent, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        var perms = attributes.permissions();
        if (!attributes.isDirectory() || !Integer.valueOf(0).equals(uid)
            || perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
            || perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
          throw new IOException(parent + " must be a directory of root's that only root may write");
        }
        return parent;
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  /** Removes a layout made by {@link #install}. */
  static void remove(Installed installed) {
    if (installed.dir() == null) {
      return;
    }
    try {
      FileTrees.delete(installed.dir());
    } catch (IOException | UncheckedIOException e) {
      log.warn("cannot remove the in-jail SDKs at {}", installed.dir(), e);
    }
  }

  /** Removes the layouts of earlier hosts on {@code dataDir}: root's own directories only, never a link. */
  private static void removeLeftovers(Path tmp, Path dataDir) {
    String owner = dataDir.toAbsolutePath().normalize().toString();
    try (Stream<Path> entries = Files.list(tmp)) {
      for (Path p : (Iterable<Path>) entries.filter(p -> p.getFileName().toString().startsWith(DIR_PREFIX))::iterator) {
        try {
          if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
              || !Integer.valueOf(0).equals(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS))) {
            continue;
          }
          Path ownerFile = p.resolve(OWNER_FILE);
          if (Files.isRegularFile(ownerFile, LinkOption.NOFOLLOW_LINKS)
              && Files.readString(ownerFile).equals(owner)) {
            FileTrees.delete(p);
          }
        } catch (IOException | UncheckedIOException e) {
          log.warn("cannot remove an earlier host's in-jail SDKs at {}", p, e);
        }
      }
    } catch (IOException e) {
      log.warn("cannot look for earlier hosts' in-jail SDKs in {}", tmp, e);
    }
  }

  /**
   * Copies the directories and regular files of {@code from}; symbolic links are skipped, never
   * followed (the source may belong to a less privileged user than this root host, and whatever is
   * copied becomes readable in every jail).
   */
  private static void copyDirectory(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : (Iterable<Path>) all.sorted()::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectories(target);
        } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          Files.copy(p, target, LinkOption.NOFOLLOW_LINKS);
        }
      }
    }
  }

  private static void writeJavaJar(Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().putValue("Implementation-Title", "Paddock agent SDK (Java)");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
      for (String[] tree : JAVA_TREES) {
        copyTree(tree[0], tree[1], (name, in) -> {
          if (name.startsWith("python/")) {
            return; // the Python SDK lives beside the Java one in agent-sdk's jar
          }
          try {
            out.putNextEntry(new JarEntry(tree[1] + name));
            in.transferTo(out);
            out.closeEntry();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
      }
    }
  }

  /** A sink for one file of a tree: its name below the prefix, and its content. */
  private interface Sink {
    void accept(String name, InputStream in) throws IOException;
  }

  /**
   * Hands every file under {@code prefix} of the classpath root holding {@code marker} (a directory
   * of classes, or a jar) to {@code sink}.
   */
  private static void copyTree(String marker, String prefix, Sink sink) throws IOException {
    URL url = AgentSdks.class.getClassLoader().getResource(marker);
    if (url == null) {
      throw new IOException(marker + " is not on the host's classpath");
    }
    try {
      if (url.getProtocol().equals("file")) {
        Path markerPath = Path.of(url.toURI());
        Path root = markerPath;
        for (int i = 0; i < marker.split("/").length; i++) {
          root = root.getParent();
        }
        Path base = root.resolve(prefix);
        try (Stream<Path> files = Files.walk(base)) {
          for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
            try (InputStream in = Files.newInputStream(f)) {
              sink.accept(base.relativize(f).toString(), in);
            }
          }
        }
      } else if (url.getProtocol().equals("jar")) {
        String spec = url.getPath();
        Path jarPath = Path.of(new URL(spec.substring(0, spec.indexOf("!/"))).toURI());
        try (JarFile jar = new JarFile(jarPath.toFile())) {
          Enumeration<JarEntry> entries = jar.entries();
          while (entries.hasMoreElements()) {
            JarEntry e = entries.nextElement();
            if (!e.isDirectory() && e.getName().startsWith(prefix)) {
              try (InputStream in = jar.getInputStream(e)) {
                sink.accept(e.getName().substring(prefix.length()), in);
              }
            }
          }
        }
      } else {
        throw new IOException("cannot read classpath entries from " + url);
      }
    } catch (URISyntaxException e) {
      throw new IOException("bad classpath location " + url, e);
    }
  }

  private static void write(Path target, InputStream in) throws IOException {
    Files.createDirectories(target.getParent());
    try (OutputStream out = Files.newOutputStream(target)) {
      in.transferTo(out);
    }
  }

  /** Files 0444 and directories 0555: a jail's user reads them through its mount, nothing writes. */
  private static void readOnly(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "r-xr-xr-x" : "r--r--r--"));
      }
    } catch (IOException e) {
      log.warn("cannot make {} read-only", dir, e);
    }
  }
}
