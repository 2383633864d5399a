package dev.paddock.runtime.e2e;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Base of test classes whose tests share one real host (starting one costs a jail probe). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SharedHostTest {
  TestHost host;

  @BeforeAll
  void startHost(@TempDir Path temp) throws Exception {
    host = new TestHost(temp, this::configure);
  }

  /** The host's configuration, as this class's tests need it (default: as TestHost makes it). */
  dev.paddock.runtime.config.HostConfig configure(dev.paddock.runtime.config.HostConfig config) {
    return config;
  }

  @AfterAll
  void stopHost() throws Exception {
    host.close();
  }
}
