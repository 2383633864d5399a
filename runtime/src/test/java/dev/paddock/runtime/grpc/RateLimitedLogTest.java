package dev.paddock.runtime.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {
  @Test
  void aFloodLogsOneLineASecondAndCountsTheRest() {
    AtomicLong now = new AtomicLong(5);
    RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(RateLimitedLogTest.class), 1_000, now::get);
    for (int i = 0; i < 20_000; i++) {
      log.info("refused {}", i);
    }
    assertThat(log.suppressed()).isEqualTo(19_999);
    now.addAndGet(1_000);
    log.info("refused again");
    assertThat(log.suppressed()).isZero();
    log.info("and again");
    assertThat(log.suppressed()).isEqualTo(1);
  }
}
