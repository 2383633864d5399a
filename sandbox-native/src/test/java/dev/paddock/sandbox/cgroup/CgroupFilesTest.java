package dev.paddock.sandbox.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The flat-keyed counter files the host reads at every exec's start and end, as the kernel writes them. */
class CgroupFilesTest {

  @Test
  void readsTheValueOfItsKeyAndNoOther() {
    String oomControl = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"; // cgroup v1 memory.oom_control
    assertThat(CgroupFiles.keyedValue(oomControl, "oom_kill")).isEqualTo(3);
    assertThat(CgroupFiles.keyedValue(oomControl, "oom_kill_disable")).isZero();
    assertThat(CgroupFiles.keyedValue(oomControl, "under_oom")).isZero();
    assertThat(CgroupFiles.keyedValue("max 12\n", "max")).isEqualTo(12); // pids.events
    String memoryEvents = "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n"; // cgroup v2 memory.events
    assertThat(CgroupFiles.keyedValue(memoryEvents, "oom_kill")).isEqualTo(1);
    assertThat(CgroupFiles.keyedValue(memoryEvents, "max")).isEqualTo(7);
  }

  @Test
  void aMissingKeyOrAnOddLineIsZero() {
    assertThat(CgroupFiles.keyedValue("", "max")).isZero();
    assertThat(CgroupFiles.keyedValue("maximum 5\nmax\n", "max")).isZero();
    assertThat(CgroupFiles.keyedValue("max 1 2\n", "max")).isZero();
    assertThat(CgroupFiles.keyedValue("  max 4", "max")).isEqualTo(4); // no final newline, leading blanks
  }
}
