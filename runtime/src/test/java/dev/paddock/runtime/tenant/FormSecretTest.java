package dev.paddock.runtime.tenant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FormSecretTest {
  @Test
  void anOriginIsKeptAsABrowserWritesIt() {
    assertThat(new FormSecret("PW", "HTTPS://Login.Example.com:443").origin()).isEqualTo("https://login.example.com");
    assertThat(new FormSecret("PW", "http://login.example.com:80").origin()).isEqualTo("http://login.example.com");
    assertThat(new FormSecret("PW", "http://127.0.0.1:8080").origin()).isEqualTo("http://127.0.0.1:8080");
  }

  @Test
  void anythingButSchemeHostAndPortIsRefused() {
    for (String bad : new String[] {"https://login.example.com/", "https://login.example.com/path", "login.example.com",
        "ftp://login.example.com", "https://user@login.example.com", "https://login.example.com?x=1", "", "https://"}) {
      assertThatThrownBy(() -> new FormSecret("PW", bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("browser formSecrets: origin");
    }
    assertThatThrownBy(() -> new FormSecret("1PW", "https://a.example")).hasMessageContaining("secret must be");
  }

  @Test
  void aGrantAnswersTheOriginsOfOneSecret() {
    BrowserGrant grant = new BrowserGrant(8, false, 0, java.util.List.of(), true, java.util.List.of(
        new FormSecret("PW", "https://a.example"), new FormSecret("PW", "https://b.example"),
        new FormSecret("OTHER", "https://c.example")));
    assertThat(grant.formOrigins("PW")).containsExactly("https://a.example", "https://b.example");
    assertThat(grant.formOrigins("NONE")).isEmpty();
  }
}
