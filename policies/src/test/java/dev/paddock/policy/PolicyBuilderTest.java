package dev.paddock.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PolicyBuilderTest {

  @Test
  void buildReportsEveryProblemAtOnce() {
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyBuilder.create()
        .mountReadOnly(Path.of("relative/path"))
        .mountReadOnly(Path.of("/workspace"))
        .mountReadOnly(Path.of("/usr"))
        .mountReadOnly(Path.of("/usr"))
        .failWithErrno(Syscall.CLONE3, 0)
        .limits(l -> l.memory(1).wallTime(Duration.ofSeconds(-1)).processes(0))
        .build());
    assertThat(e.problems()).hasSize(7);
    assertThat(e.problems()).anyMatch(p -> p.contains("absolute"))
        .anyMatch(p -> p.contains("/workspace"))
        .anyMatch(p -> p.contains("mounted twice"))
        .anyMatch(p -> p.contains("errno"))
        .anyMatch(p -> p.contains("memory"))
        .anyMatch(p -> p.contains("wall time"));
  }

  @Test
  void conflictingSeccompRulesAreRefused() {
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyBuilder.create()
        .killOn(Syscall.PTRACE).failWithErrno(Syscall.PTRACE, 1).build());
    assertThat(e.problems()).containsExactly("conflicting seccomp rules for ptrace");
  }

  @Test
  void theToolPolicyKillsEscapeSyscallsAndMountsNoHostConfiguration() {
    SandboxPolicy tool = DefaultPolicies.tool();
    assertThat(tool.seccomp()).extracting(SeccompRule::syscall)
        .contains(Syscall.PTRACE, Syscall.MOUNT, Syscall.UNSHARE, Syscall.SETNS, Syscall.BPF, Syscall.KEYCTL,
            Syscall.PERF_EVENT_OPEN, Syscall.KEXEC_LOAD, Syscall.INIT_MODULE, Syscall.FINIT_MODULE);
    assertThat(tool.mounts()).allMatch(m -> !m.writable());
    assertThat(tool.mounts()).extracting(m -> m.hostPath().toString())
        .noneMatch(p -> p.startsWith("/home") || p.startsWith("/root") || p.equals("/etc") || p.startsWith("/work")
            || p.startsWith("/var") || p.startsWith("/proc") || p.startsWith("/sys"));
    assertThat(tool.limits()).isEqualTo(Limits.DEFAULTS);
  }

  @Test
  void kafelTextKillsByNumberAndBlocksNamespaceClones() {
    String kafel = KafelPolicy.compile(DefaultPolicies.tool().seccomp());
    assertThat(kafel).startsWith("POLICY paddock {").endsWith("USE paddock DEFAULT ALLOW\n");
    assertThat(kafel).contains("SYSCALL[101]") // ptrace
        .containsPattern("ERRNO\\(38\\) \\{[^}]*SYSCALL\\[435\\]") // clone3 -> ENOSYS
        .contains("SYSCALL[56](flags) { (flags & 0x7e020000) != 0 }");
  }

  @Test
  void syscallsAreNamedByTheirNumbers() {
    assertThat(Syscall.byX8664Number(101)).contains(Syscall.PTRACE);
    assertThat(Syscall.PTRACE.kernelName()).isEqualTo("ptrace");
    assertThat(Syscall.byX8664Number(0)).isEmpty();
  }

  /** What a policy's audited version is a digest of covers every part, not just counts. */
  @Test
  void theCanonicalTextTellsApartPoliciesThatDifferInAnyPart() throws Exception {
    SandboxPolicy usr = PolicyBuilder.create().mountReadOnly(Path.of("/usr")).build();
    SandboxPolicy opt = PolicyBuilder.create().mountReadOnly(Path.of("/opt")).build();
    assertThat(usr.canonicalText()).isNotEqualTo(opt.canonicalText()).contains("/usr");
    assertThat(DefaultPolicies.tool().canonicalText()).isNotEqualTo(DefaultPolicies.isolated().canonicalText());
    assertThat(usr.canonicalText()).isEqualTo(PolicyBuilder.create().mountReadOnly(Path.of("/usr")).build().canonicalText());
  }
}
