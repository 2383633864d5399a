package dev.paddock.runtime.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a namespace's no-route counts from the kernel's snmp and snmp6 texts. */
class JailNetCountersTest {
  private static final String SNMP = "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams"
      + " InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout\n"
      + "Ip: 1 64 120 0 0 0 0 0 120 118 0 7 0\n"
      + "Icmp: InMsgs InErrors\n"
      + "Icmp: 0 0\n";
  private static final String SNMP6 = "Ip6InReceives                   \t40\n"
      + "Ip6OutNoRoutesX                 \t9\n"
      + "Ip6OutNoRoutes                  \t3\n"
      + "Ip6InOctets                     \t1200\n";

  @Test
  void readsOutNoRoutesByItsNameNotItsPlace() {
    assertThat(JailNetCounters.ipv4(SNMP)).isEqualTo(7);
    assertThat(JailNetCounters.ipv6(SNMP6)).isEqualTo(3);
  }

  @Test
  void aTextWithoutTheCounterIsAnError() {
    assertThatThrownBy(() -> JailNetCounters.ipv4("Icmp: InMsgs\nIcmp: 0\n")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JailNetCounters.ipv4("Ip: Forwarding\nIp: 1\n")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> JailNetCounters.ipv6("Ip6InReceives 4\n")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void readsBothFilesOfANetDirectory(@TempDir Path net) throws Exception {
    Files.writeString(net.resolve("snmp"), SNMP);
    Files.writeString(net.resolve("snmp6"), SNMP6);
    assertThat(JailNetCounters.noRoutes(net)).containsExactly(7, 3);
  }

  @Test
  void aKernelWithoutIpv6CountsItsAttemptsAsNone(@TempDir Path net) throws Exception {
    Files.writeString(net.resolve("snmp"), SNMP);
    assertThat(JailNetCounters.noRoutes(net)).containsExactly(7, 0);
  }

  @Test
  void aGoneProcessOrNoneGivesNull(@TempDir Path net) {
    assertThat(JailNetCounters.noRoutes(null)).isNull();
    assertThat(JailNetCounters.noRoutes(net.resolve("gone"))).isNull();
  }

  @Test
  void theHostsOwnNamespaceReads() {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "needs Linux's /proc");
    // The real files of this process's namespace parse (the counts themselves are the machine's).
    long[] counts = JailNetCounters.noRoutes(Path.of("/proc/self/net"));
    assertThat(counts).hasSize(2);
    assertThat(counts[0]).isNotNegative();
    assertThat(counts[1]).isNotNegative();
  }
}
