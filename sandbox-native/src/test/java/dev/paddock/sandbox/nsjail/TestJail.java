package dev.paddock.sandbox.nsjail;

import dev.paddock.policy.DefaultPolicies;
import dev.paddock.policy.Limits;
import dev.paddock.policy.SandboxPolicy;
import dev.paddock.sandbox.JailRequirement;
import dev.paddock.sandbox.SandboxProcess;
import dev.paddock.sandbox.SandboxRequest;
import dev.paddock.sandbox.SandboxResult;
import dev.paddock.sandbox.cgroup.CgroupDriver;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/** A real nsjail launcher over a temporary workspace, for tests. */
final class TestJail {
  static final int OUTSIDE_UID = 99999;

  final NsjailLauncher launcher;
  final Path workspace;
  private final String cgroupBase = "paddock/test-" + HexFormat.of().toHexDigits(System.nanoTime());

  TestJail(Path tempDir) throws Exception {
    Path nsjail = JailRequirement.nsjail();
    launcher = new NsjailLauncher(
        new NsjailConfig(nsjail, OUTSIDE_UID, OUTSIDE_UID, tempDir.resolve("scratch"), tempDir.resolve("workspaces")),
        CgroupDriver.detect(Path.of("/sys/fs/cgroup")),
        LinuxSyscalls.system());
    // JUnit's temp dirs are 0700; nsjail needs to search through them to mount the workspace.
    Files.setPosixFilePermissions(tempDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    launcher.checkAvailable();
    workspace = launcher.createWorkspace("ws");
  }

  /** The output and result of one run. */
  record Run(String stdout, String stderr, SandboxResult result) {}

  Run run(List<String> argv) throws Exception {
    return run(argv, l -> l);
  }

  Run run(List<String> argv, UnaryOperator<Limits.Builder> limits) throws Exception {
    return run(argv, limits, "");
  }

  Run run(List<String> argv, UnaryOperator<Limits.Builder> limits, String stdin) throws Exception {
    return run(argv, limits, stdin, Map.of());
  }

  Run run(List<String> argv, UnaryOperator<Limits.Builder> limits, String stdin, Map<String, String> env) throws Exception {
    SandboxPolicy policy = DefaultPolicies.tool();
    policy = policy.withLimits(limits.apply(policy.limits().toBuilder()).build());
    SandboxRequest request = new SandboxRequest(argv, env, "", stdin.getBytes(StandardCharsets.UTF_8), workspace, policy,
        cgroupBase);
    SandboxProcess p = launcher.start(request);
    CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.stderr()));
    byte[] out = readAll(p.stdout());
    SandboxResult result = p.await();
    return new Run(new String(out, StandardCharsets.UTF_8), new String(err.get(), StandardCharsets.UTF_8), result);
  }

  Run python(String code) throws Exception {
    return run(List.of("python3", "-c", code));
  }

  String cgroupBase() {
    return cgroupBase;
  }

  void close() {
    launcher.removeCgroups(cgroupBase);
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
