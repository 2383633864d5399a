package dev.paddock.audit.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.paddock.ipc.v1.AuditAction;
import dev.paddock.ipc.v1.AuditRecord;
import dev.paddock.ipc.v1.ResourceUsage;
import org.junit.jupiter.api.Test;

class RecordsTest {
  private static final long[] SEQUENCES = {0, 1, 127, 128, 300, 1L << 35, Long.MAX_VALUE, -1L};
  private static final Timestamp[] TIMES = {
      Timestamp.getDefaultInstance(),
      Timestamp.newBuilder().setSeconds(1_795_000_000L).build(),
      Timestamp.newBuilder().setSeconds(1_795_000_000L).setNanos(999_000_000).build(),
      Timestamp.newBuilder().setNanos(1_000_000).build()};

  @Test
  void numberingByPrefixGivesTheBytesOfTheNumberedRecord() {
    AuditRecord empty = AuditRecord.getDefaultInstance();
    AuditRecord full = AuditRecord.newBuilder().setTenant("acme").setRequestId("req_1").setClientRequestId("c-1")
        .setActor("key:k1").setAction(AuditAction.AUDIT_ACTION_EXEC_FINISHED).setTarget("exe_1")
        .setArgumentsSha256(ByteString.copyFrom(new byte[32])).setPolicyVersion("p1").setOutcome("OK")
        .setUsage(ResourceUsage.newBuilder().setPeakMemoryBytes(12 << 20).build())
        .putAttributes("zeta", "1").putAttributes("alpha", "2").putAttributes("mid", "3").build();
    for (AuditRecord unnumbered : new AuditRecord[] {empty, full}) {
      for (long sequence : SEQUENCES) {
        for (Timestamp time : TIMES) {
          AuditRecord numbered = unnumbered.toBuilder().setSequence(sequence).setTime(time).build();
          byte[] expected = Records.serialize(numbered);
          assertThat(Records.serializeNumbered(unnumbered, sequence, time)).isEqualTo(expected);
          assertThat(expected.length).isLessThanOrEqualTo(Records.numberedSizeBound(unnumbered));
        }
      }
    }
  }

  @Test
  void aRecordAlreadyNumberedIsRefused() {
    AuditRecord numbered = AuditRecord.newBuilder().setSequence(4).build();
    assertThatThrownBy(() -> Records.serializeNumbered(numbered, 5, Timestamp.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
