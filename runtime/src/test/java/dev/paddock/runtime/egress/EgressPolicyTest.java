package dev.paddock.runtime.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.ipc.v1.EgressDenyReason;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class EgressPolicyTest {
  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByAddress(AddressRange.literal(literal));
  }

  private static EgressPolicy policy(List<String> allow, List<String> deny, List<String> sessionAllow, List<String> sessionDeny,
      String... reachable) {
    return new EgressPolicy(EgressRules.parse(allow, deny, "tenant"), EgressRules.parse(sessionAllow, sessionDeny, "session"),
        java.util.Arrays.stream(reachable).map(AddressRange::parse).toList());
  }

  @Test
  void namesMatchExactlyOrBelowAWildcardAndOnTheirPorts() {
    EgressRule wildcard = EgressRule.parse("*.Example.com.");
    assertThat(wildcard.matchesName("a.example.com", 443)).isTrue();
    assertThat(wildcard.matchesName("a.b.example.com", 1)).isTrue();
    assertThat(wildcard.matchesName("example.com", 443)).isFalse();
    assertThat(wildcard.matchesName("badexample.com", 443)).isFalse();
    EgressRule exact = EgressRule.parse("pypi.org:443");
    assertThat(exact.matchesName("pypi.org", 443)).isTrue();
    assertThat(exact.matchesName("pypi.org", 80)).isFalse();
    assertThat(EgressRule.parse("host.test:8000-8100").matchesName("host.test", 8100)).isTrue();
    assertThat(EgressRule.parse("*").matchesName("anything.test", 1)).isTrue();
  }

  @Test
  void addressesMatchOnlyAddressEntries() throws Exception {
    assertThat(EgressRule.parse("203.0.113.0/24:443").matchesAddress(ip("203.0.113.9"), 443)).isTrue();
    assertThat(EgressRule.parse("203.0.113.0/24:443").matchesAddress(ip("203.0.114.9"), 443)).isFalse();
    assertThat(EgressRule.parse("[2001:db8::]/32").matchesAddress(ip("2001:db8::5"), 80)).isTrue();
    assertThat(EgressRule.parse("[2001:db8::1]:443").matchesAddress(ip("2001:db8::1"), 443)).isTrue();
    assertThat(EgressRule.parse("*").matchesAddress(ip("203.0.113.9"), 80)).isFalse();
    assertThat(EgressRule.parse("203.0.113.9").matchesName("203.0.113.9", 80)).isFalse();
  }

  @Test
  void badEntriesAreRefusedWithTheirPlace() {
    for (String bad : List.of("", "exa mple.com", "host:0", "host:99999", "host:5-2", "2001:db8::1", "10.0.0.0/33",
        "*.*.com", "-bad.com", "a..b")) {
      assertThatThrownBy(() -> EgressRule.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> EgressRules.parse(List.of("ok.test", "bad host"), List.of(), "egress"))
        .hasMessageStartingWith("egress.allow[1]: ");
  }

  @Test
  void denyWinsAndASessionOnlyNarrows() throws Exception {
    EgressPolicy p = policy(List.of("*.example.com", "files.test"), List.of("bad.example.com"),
        List.of("api.example.com", "other.test"), List.of("files.test"));
    assertThat(p.checkRequest("api.example.com", null, 443)).isNull();
    assertThat(p.checkRequest("bad.example.com", null, 443).reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED);
    // allowed by the session but not by the tenant
    assertThat(p.checkRequest("other.test", null, 443).reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED);
    // allowed by the tenant but not by the session
    assertThat(p.checkRequest("www.example.com", null, 443).reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED);
    // denied by the session
    assertThat(p.checkRequest("files.test", null, 443).reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED);
  }

  @Test
  void rawAddressesNeedAnAddressEntryAndSpecialOnesTheOperator() throws Exception {
    EgressPolicy p = policy(List.of("*", "198.51.100.0/24"), List.of("93.184.216.0/24"), List.of(), List.of(), "127.0.0.1/32");
    assertThat(p.checkRequest("8.8.8.8", ip("8.8.8.8"), 53).reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_NOT_ALLOWED);
    assertThat(p.checkRequest("198.51.100.7", ip("198.51.100.7"), 80)).isNull();
    // after resolution: deny-listed ranges, then special addresses
    assertThat(p.checkAddress(ip("93.184.216.34"), 80).reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_DENY_LISTED);
    assertThat(p.checkAddress(ip("1.1.1.1"), 443)).isNull();
    for (String special : List.of("10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "127.0.0.2", "0.0.0.0", "::1",
        "fe80::1", "fd00::1", "fd00:ec2::254", "100.64.0.1", "::ffff:10.0.0.1", "198.51.100.7")) {
      assertThat(p.checkAddress(ip(special), 80)).as(special).isNotNull()
          .satisfies(d -> assertThat(d.reason()).isEqualTo(EgressDenyReason.EGRESS_DENY_REASON_PRIVATE_ADDRESS));
    }
    assertThat(p.checkAddress(ip("127.0.0.1"), 80)).isNull(); // the operator made it reachable
  }

  @Test
  void headerBindingsNameOneExactHost() {
    assertThat(new HeaderSecret("API_TOKEN", "API.example.com", "Authorization", "Bearer ").host()).isEqualTo("api.example.com");
    assertThatThrownBy(() -> new HeaderSecret("API_TOKEN", "*.example.com", "Authorization", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HeaderSecret("API_TOKEN", "api.example.com", "Bad Header", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HeaderSecret("API_TOKEN", "api.example.com", "X-Key", "a\r\nInjected: 1"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
