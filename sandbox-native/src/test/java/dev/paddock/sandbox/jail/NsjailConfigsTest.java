package dev.paddock.sandbox.jail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.paddock.ipc.nsjail.NsJailConfig;
import dev.paddock.policy.DefaultPolicies;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NsjailConfigsTest {
  private static final JailConfig HOST = new JailConfig(Path.of("/opt/nsjail"), Path.of("/opt/paddock-init"),
      Path.of("/tmp/scratch"), 99999, 99999);

  @Test
  void benchmarkBaselineIsTheSessionJailRunningBinTrueWithoutTheControlDescriptor() {
    Path log = Path.of("/tmp/scratch/nsjail.log");
    NsJailConfig session = NsjailConfigs.session(HOST, DefaultPolicies.tool(), WorkspaceLimits.DEFAULTS, log);
    NsJailConfig baseline = NsjailConfigs.baseline(HOST, DefaultPolicies.tool(), WorkspaceLimits.DEFAULTS, log);

    assertThat(baseline.getPassFdList()).isEmpty();
    assertThat(baseline.getExecBin().getPath()).isEqualTo("/bin/true");
    assertThat(baseline.getExecBin().getExecFd()).isFalse();
    assertThat(baseline.toBuilder().addAllPassFd(session.getPassFdList()).setExecBin(session.getExecBin()).build())
        .as("everything else as in a session jail").isEqualTo(session);
    assertThat(JailLauncher.baselineConfigText(HOST, DefaultPolicies.tool(), WorkspaceLimits.DEFAULTS, log))
        .isEqualTo(NsjailConfigs.text(baseline));
  }
}
