package dev.paddock.sandbox.nsjail;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The jail a session keeps ready for its next exec: used, replaced, and discarded with the session. */
class StandbyJailTest {
  @TempDir Path temp;

  @Test
  void aSessionKeepsOneJailReadyAndLosesItWithItsCgroups() throws Exception {
    TestJail jail = new TestJail(temp);
    try {
      check(jail);
    } finally {
      jail.close();
    }
  }

  private static void check(TestJail jail) throws Exception {
    Path pidsParent = Path.of("/sys/fs/cgroup/pids").resolve(jail.cgroupBase());
    assertThat(jail.run(List.of("echo", "one")).stdout()).isEqualTo("one\n");
    // After an exec, the next jail is prepared in the background: one group, one waiting shell.
    List<Path> ready = awaitGroups(pidsParent, 1);
    assertThat(ready).hasSize(1);
    assertThat(Files.readString(ready.get(0).resolve("pids.current")).trim()).isEqualTo("1");
    // The next exec uses it, and another is prepared.
    assertThat(jail.run(List.of("echo", "two")).stdout()).isEqualTo("two\n");
    for (int i = 0; i < 500 && Files.exists(ready.get(0)); i++) {
      Thread.sleep(10); // a used jail's group is removed just after its result is out
    }
    assertThat(ready.get(0)).doesNotExist();
    assertThat(awaitGroups(pidsParent, 1)).hasSize(1).doesNotContain(ready.get(0));

    jail.close();
    assertThat(pidsParent).doesNotExist();
    assertThat(NsjailContainmentTest.processesWithArgument(jail.cgroupBase())).isEmpty();
  }

  private static List<Path> awaitGroups(Path parent, int count) throws Exception {
    for (int i = 0; i < 500; i++) {
      List<Path> groups;
      try (var children = Files.list(parent)) {
        groups = children.filter(Files::isDirectory).toList();
      }
      if (groups.size() == count && groups.stream().allMatch(StandbyJailTest::oneTask)) {
        return groups;
      }
      Thread.sleep(10);
    }
    try (var children = Files.list(parent)) {
      return children.filter(Files::isDirectory).toList();
    }
  }

  private static boolean oneTask(Path group) {
    try {
      return Files.readString(group.resolve("pids.current")).trim().equals("1");
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
