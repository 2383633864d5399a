package dev.paddock.sandbox.cgroup;

import dev.paddock.sandbox.linux.Errno;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import dev.paddock.sandbox.linux.Signal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** File-level helpers shared by both cgroup drivers. */
final class CgroupFiles {
  private static final Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

  private CgroupFiles() {}

  /** Refuses anything but plain relative segments, so no id can climb out of the subtree. */
  static String checkRelative(String relativePath) throws CgroupException {
    if (!SAFE_PATH.matcher(relativePath).matches() || relativePath.contains("..")) {
      throw new CgroupException("invalid cgroup path: " + relativePath);
    }
    return relativePath;
  }

  static void write(Path file, String value) throws CgroupException {
    try {
      Files.write(file, value.getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new CgroupException("cannot write '" + value + "' to " + file, e);
    }
  }

  static String read(Path file) throws CgroupException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new CgroupException("cannot read " + file, e);
    }
  }

  /**
   * The value of {@code key} in flat-keyed text, 0 when absent. Scanned by hand: it is read at
   * every exec's start, and splitting each line with a regular expression cost more than the
   * file's read.
   */
  static long keyedValue(String text, String key) {
    int at = 0;
    while (at < text.length()) {
      int end = text.indexOf('\n', at);
      if (end < 0) {
        end = text.length();
      }
      int from = at;
      while (from < end && Character.isWhitespace(text.charAt(from))) {
        from++;
      }
      if (text.startsWith(key, from) && from + key.length() < end && text.charAt(from + key.length()) == ' ') {
        String value = text.substring(from + key.length(), end).trim();
        if (!value.isEmpty() && value.indexOf(' ') < 0) {
          return Long.parseLong(value);
        }
      }
      at = end + 1;
    }
    return 0;
  }

  /** A single number from a file, 0 when the file is absent. */
  static long number(Path file) throws CgroupException {
    if (!Files.exists(file)) {
      return 0;
    }
    String text = read(file).trim();
    return text.isEmpty() || text.equals("max") ? 0 : Long.parseLong(text);
  }

  static List<Long> pids(Path procsFile) throws CgroupException {
    List<Long> pids = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(procsFile, StandardCharsets.US_ASCII)) {
        if (!line.isBlank()) {
          pids.add(Long.parseLong(line.trim()));
        }
      }
    } catch (NoSuchFileException e) {
      return pids;
    } catch (IOException e) {
      throw new CgroupException("cannot read " + procsFile, e);
    }
    return pids;
  }

  /**
   * SIGKILLs every pid listed in {@code procsFile} until the list stays empty. Killing the jail's
   * first process (pid 1 of its pid namespace) makes the kernel kill the rest of the namespace;
   * the loop catches anything forked in between.
   */
  static boolean killLoop(Path procsFile, LinuxSyscalls linux) throws CgroupException {
    for (int round = 0; round < 100; round++) {
      List<Long> pids = pids(procsFile);
      if (pids.isEmpty()) {
        return true;
      }
      for (long pid : pids) {
        try {
          linux.sendSignal(pid, Signal.SIGKILL);
        } catch (NativeException e) {
          if (e.errno() != Errno.ESRCH) {
            throw new CgroupException("cannot kill pid " + pid, e);
          }
        }
      }
      sleepQuietly(round < 10 ? 1 : 10);
    }
    return pids(procsFile).isEmpty();
  }

  /** rmdir of a cgroup directory, retried briefly: dying tasks can keep it busy for a moment. */
  static void rmdir(Path dir) throws CgroupException {
    for (int attempt = 0; ; attempt++) {
      try {
        Files.deleteIfExists(dir);
        return;
      } catch (IOException e) {
        if (attempt >= 50) {
          throw new CgroupException("cannot remove cgroup " + dir, e);
        }
        sleepQuietly(10);
      }
    }
  }

  /** Removes {@code dir} and its child groups, deepest first. Only directories: cgroup files go with them. */
  static void rmdirTree(Path dir) throws CgroupException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path child : children) {
        rmdirTree(child);
      }
    } catch (IOException e) {
      throw new CgroupException("cannot list cgroup " + dir, e);
    }
    rmdir(dir);
  }

  /**
   * Kills every process in {@code dir} and its child groups and removes them, deepest first. The
   * groups are the host's own directories (a handful of levels), never anything a tenant made.
   */
  static void killAndRemoveTree(Path dir, LinuxSyscalls linux) throws CgroupException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try {
      try (DirectoryStream<Path> children = Files.newDirectoryStream(dir, Files::isDirectory)) {
        for (Path child : children) {
          killAndRemoveTree(child, linux);
        }
      } catch (IOException e) {
        throw new CgroupException("cannot list cgroup " + dir, e);
      }
      killLoop(dir.resolve("cgroup.procs"), linux);
      rmdir(dir);
    } catch (CgroupException e) {
      // A jail's own cleanup may remove its group between the listing and here (the kernel then
      // answers ENODEV): a group that is gone is what this wanted.
      if (Files.isDirectory(dir)) {
        throw e;
      }
    }
  }

  static void mkdirs(Path dir) throws CgroupException {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new CgroupException("cannot create cgroup " + dir, e);
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
