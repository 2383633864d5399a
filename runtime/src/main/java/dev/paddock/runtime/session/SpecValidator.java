package dev.paddock.runtime.session;

import dev.paddock.policy.Limits;
import dev.paddock.sandbox.jail.WorkspaceLimits;
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.errors.PaddockException.FieldViolation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Checks callers' session and exec requests against the documented limits, collecting every problem. */
final class SpecValidator {
  static final int MAX_ARGV_BYTES = 256 * 1024;
  static final int MAX_STDIN_BYTES = 1024 * 1024;
  static final int MAX_ENV_BYTES = 64 * 1024;
  static final int MAX_CWD_BYTES = 4096;
  static final int MAX_LABELS = 64;
  private static final Pattern ENV_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9._/-]{1,63}");

  private final SessionSettings settings;

  SpecValidator(SessionSettings settings) {
    this.settings = settings;
  }

  /** The per-exec limits a session spec resolves to. */
  Limits sessionLimits(SessionSpec spec) {
    List<FieldViolation> v = new ArrayList<>();
    Limits max = settings.maxLimits();
    Limits.Builder b = Limits.DEFAULTS.toBuilder();
    if (spec.memoryBytes() != 0) {
      check(v, "limits.memory_bytes", spec.memoryBytes(), 16 * Limits.MIB, max.memoryBytes());
      b.memory(spec.memoryBytes());
    }
    if (spec.maxProcesses() != 0) {
      check(v, "limits.max_processes", spec.maxProcesses(), 1, max.maxProcesses());
      b.processes((int) Math.min(Integer.MAX_VALUE, spec.maxProcesses()));
    }
    if (spec.cpuMillicores() != 0) {
      check(v, "limits.cpu_millicores", spec.cpuMillicores(), 10, max.cpuMillicores());
      b.cpuMillicores((int) Math.min(Integer.MAX_VALUE, spec.cpuMillicores()));
    }
    if (spec.tmpfsBytes() != 0) {
      check(v, "limits.tmpfs_bytes", spec.tmpfsBytes(), Limits.MIB, max.tmpfsBytes());
      b.tmpfs(spec.tmpfsBytes());
    }
    if (spec.maxFileBytes() != 0) {
      check(v, "limits.max_file_bytes", spec.maxFileBytes(), 1, max.maxFileBytes());
      b.maxFileSize(spec.maxFileBytes());
    }
    if (spec.maxOpenFiles() != 0) {
      check(v, "limits.max_open_files", spec.maxOpenFiles(), 16, max.maxOpenFiles());
      b.openFiles((int) Math.min(Integer.MAX_VALUE, spec.maxOpenFiles()));
    }
    duration(v, "idle_timeout", spec.idleTimeout(), settings.maxIdleTimeout());
    duration(v, "max_lifetime", spec.maxLifetime(), settings.maxLifetime());
    env(v, "env", spec.env());
    labels(v, "labels", spec.labels());
    if (spec.policy().length() > 128) {
      v.add(new FieldViolation("policy", "at most 128 characters"));
    }
    throwIfAny(v);
    return b.build();
  }

  /** Headroom kept between the workspace and the memory limit: a full workspace is ENOSPC, not OOM. */
  static final long WORKSPACE_HEADROOM = 64 * Limits.MIB;
  static final long MAX_WORKSPACE_INODES = 10_000_000;

  /**
   * The workspace a session spec resolves to, for the session's {@code limits} (already valid):
   * the operator's default capped to the memory limit less headroom, or what the caller asked.
   */
  WorkspaceLimits workspace(SessionSpec spec, Limits limits) {
    List<FieldViolation> v = new ArrayList<>();
    long room = limits.memoryBytes() - WORKSPACE_HEADROOM;
    long bytes = Math.min(settings.workspaceBytes(), Math.max(Limits.MIB, room));
    if (spec.workspaceBytes() != 0) {
      check(v, "limits.workspace_bytes", spec.workspaceBytes(), Limits.MIB, settings.workspaceBytes() * 16);
      if (spec.workspaceBytes() > room) {
        v.add(new FieldViolation("limits.workspace_bytes", "must be at most memory_bytes - 64 MiB ("
            + room + "): the workspace's pages count toward the session's memory"));
      }
      bytes = spec.workspaceBytes();
    }
    long inodes = settings.workspaceInodes();
    if (spec.workspaceInodes() != 0) {
      check(v, "limits.workspace_inodes", spec.workspaceInodes(), 1000, MAX_WORKSPACE_INODES);
      inodes = spec.workspaceInodes();
    }
    throwIfAny(v);
    return new WorkspaceLimits(bytes, inodes);
  }

  /** Validates an exec request; returns its wall-time limit. */
  Duration exec(ExecSpec spec) {
    List<FieldViolation> v = new ArrayList<>();
    if (spec.argv().isEmpty() || spec.argv().get(0).isEmpty()) {
      v.add(new FieldViolation("argv", "must name a program: argv[0] is required"));
    }
    long argvBytes = 0;
    for (int i = 0; i < spec.argv().size(); i++) {
      String arg = spec.argv().get(i);
      argvBytes += arg.getBytes(StandardCharsets.UTF_8).length + 1;
      if (arg.indexOf('\0') >= 0) {
        v.add(new FieldViolation("argv", "arguments may not contain NUL bytes"));
        break;
      }
      // The program name may hold no control character at all; arguments may hold tab and line
      // breaks (multi-line scripts for sh -c and python -c) but no other control character.
      if (hasControl(arg, i > 0)) {
        v.add(new FieldViolation("argv", i == 0
            ? "argv[0] may not contain control characters"
            : "arguments may not contain control characters other than tab, line feed and carriage return"));
        break;
      }
    }
    if (argvBytes > MAX_ARGV_BYTES) {
      throw PaddockException.InvalidArgument.tooLarge("argv", MAX_ARGV_BYTES, "at most " + MAX_ARGV_BYTES + " bytes in all, got " + argvBytes);
    }
    if (spec.stdin().length > MAX_STDIN_BYTES) {
      throw PaddockException.InvalidArgument.tooLarge("stdin", MAX_STDIN_BYTES, "at most " + MAX_STDIN_BYTES + " bytes, got " + spec.stdin().length);
    }
    env(v, "env", spec.env());
    cwd(v, spec.cwd());
    duration(v, "time_limit", spec.timeLimit(), settings.maxExecTimeout());
    duration(v, "cpu_time_limit", spec.cpuTimeLimit(), settings.maxExecTimeout());
    throwIfAny(v);
    return spec.timeLimit() == null ? settings.defaultExecTimeout() : spec.timeLimit();
  }

  /** True when {@code s} has a C0 control character or DEL (tab, LF and CR allowed if {@code lineBreaksOk}). */
  static boolean hasControl(String s, boolean lineBreaksOk) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        if (lineBreaksOk && (c == '\t' || c == '\n' || c == '\r')) {
          continue;
        }
        return true;
      }
    }
    return false;
  }

  /** A label selector follows the same rules as labels. */
  void labelSelector(Map<String, String> selector) {
    List<FieldViolation> v = new ArrayList<>();
    labels(v, "label_selector", selector);
    throwIfAny(v);
  }

  private static void cwd(List<FieldViolation> v, String cwd) {
    if (cwd.isEmpty()) {
      return;
    }
    if (cwd.getBytes(StandardCharsets.UTF_8).length > MAX_CWD_BYTES || hasControl(cwd, false)) {
      v.add(new FieldViolation("cwd", "at most " + MAX_CWD_BYTES + " bytes, no NUL or other control character"));
      return;
    }
    if (cwd.startsWith("/")) {
      v.add(new FieldViolation("cwd", "must be relative to the workspace"));
      return;
    }
    for (Path part : Path.of(cwd)) {
      if (part.toString().equals("..")) {
        v.add(new FieldViolation("cwd", "may not contain '..'"));
        return;
      }
    }
  }

  private static void env(List<FieldViolation> v, String field, Map<String, String> env) {
    long bytes = 0;
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!ENV_KEY.matcher(e.getKey()).matches()) {
        // The key is the caller's own input, but values never appear in errors: they may be secrets.
        v.add(new FieldViolation(field, "variable names must match [A-Za-z_][A-Za-z0-9_]*"));
        return;
      }
      if (e.getValue().indexOf('\0') >= 0) {
        v.add(new FieldViolation(field, "value of " + e.getKey() + " contains a NUL byte"));
        return;
      }
      bytes += e.getKey().length() + e.getValue().getBytes(StandardCharsets.UTF_8).length;
    }
    if (bytes > MAX_ENV_BYTES) {
      v.add(new FieldViolation(field, "at most " + MAX_ENV_BYTES + " bytes of names and values"));
    }
  }

  private static void labels(List<FieldViolation> v, String field, Map<String, String> labels) {
    if (labels.size() > MAX_LABELS) {
      v.add(new FieldViolation(field, "at most " + MAX_LABELS + " labels"));
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      if (!LABEL_KEY.matcher(e.getKey()).matches()) {
        v.add(new FieldViolation(field, "keys must be 1-63 characters of [A-Za-z0-9._/-]"));
        return;
      }
      if (e.getValue().getBytes(StandardCharsets.UTF_8).length > 256) {
        v.add(new FieldViolation(field, "values are at most 256 bytes"));
        return;
      }
    }
  }

  private static void duration(List<FieldViolation> v, String field, Duration d, Duration max) {
    if (d == null) {
      return;
    }
    if (d.isNegative() || d.isZero()) {
      v.add(new FieldViolation(field, "must be positive, got " + d.toMillis() + " ms"));
    } else if (d.compareTo(max) > 0) {
      v.add(new FieldViolation(field, "at most " + max.toSeconds() + " s, got " + d.toMillis() + " ms"));
    }
  }

  private static void check(List<FieldViolation> v, String field, long value, long min, long max) {
    if (value < min || value > max) {
      v.add(new FieldViolation(field, "must be in " + min + ".." + max + ", got " + value));
    }
  }

  private static void throwIfAny(List<FieldViolation> v) {
    if (!v.isEmpty()) {
      throw new PaddockException.InvalidArgument(v);
    }
  }
}
