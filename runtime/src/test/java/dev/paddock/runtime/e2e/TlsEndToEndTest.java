package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.ExecRequest;
import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import dev.paddock.runtime.config.TlsConfig;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.sandbox.JailRequirement;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host over TLS and mutual TLS, with certificates made by openssl for this test. */
class TlsEndToEndTest {
  @TempDir Path temp;

  @Test
  void mutualTlsServesClientsWithACertificateAndRefusesOthers() throws Exception {
    Path pki = Files.createDirectories(temp.resolve("pki"));
    makeCertificates(pki);
    TlsConfig tls = new TlsConfig(pki.resolve("server.pem"), pki.resolve("server.key"), pki.resolve("ca.pem"));
    try (TestHost host = new TestHost(temp, JailRequirement.nsjail(), SessionSettings.defaults(), tls)) {
      ChannelCredentials withCert = TlsChannelCredentials.newBuilder().trustManager(pki.resolve("ca.pem").toFile())
          .keyManager(pki.resolve("client.pem").toFile(), pki.resolve("client.key").toFile()).build();
      ManagedChannel good = channel(host, withCert);
      String session = SessionServiceGrpc.newBlockingStub(good).createSession(CreateSessionRequest.getDefaultInstance())
          .getSessionId();
      TestHost.Outcome run = TestHost.collect(ExecServiceGrpc.newBlockingStub(good).exec(ExecRequest.newBuilder()
          .setSessionId(session).addAllArgv(List.of("echo", "over tls")).build()));
      assertThat(run.out()).isEqualTo("over tls\n");

      ChannelCredentials noCert = TlsChannelCredentials.newBuilder().trustManager(pki.resolve("ca.pem").toFile()).build();
      for (ChannelCredentials refused : List.of(noCert, InsecureChannelCredentials.create())) {
        ManagedChannel bad = channel(host, refused);
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
            () -> SessionServiceGrpc.newBlockingStub(bad).withDeadlineAfter(10, TimeUnit.SECONDS)
                .createSession(CreateSessionRequest.getDefaultInstance()));
        assertThat(e).isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        bad.shutdownNow();
      }
      good.shutdownNow();

      // A client certificate the tenants file maps to a tenant acts for it without an API key.
      ManagedChannel keyless = NettyChannelBuilder.forAddress("127.0.0.1", host.port(), withCert).build();
      StatusRuntimeException unmapped = catchThrowableOfType(StatusRuntimeException.class,
          () -> SessionServiceGrpc.newBlockingStub(keyless).getSession(dev.paddock.ipc.v1.GetSessionRequest.newBuilder()
              .setSessionId(session).build()));
      assertThat(unmapped.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      Path tenantsFile = host.dataDir.resolve("tenants.yaml");
      Files.writeString(tenantsFile, Files.readString(tenantsFile)
          .replaceFirst("- id: \"alpha\"", "- id: \"alpha\"\n  clientCertificates: [\"cn=paddock-test-client\"]"));
      assertThat(dev.paddock.runtime.tenant.TenantsFile.check(tenantsFile)).isEmpty();
      Thread.sleep(600);
      assertThat(SessionServiceGrpc.newBlockingStub(keyless).getSession(dev.paddock.ipc.v1.GetSessionRequest.newBuilder()
          .setSessionId(session).build()).getSessionId()).isEqualTo(session);
      keyless.shutdownNow();

      // and the CLI speaks it too
      java.io.PrintStream stdout = System.out;
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      int exit;
      try {
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        exit = dev.paddock.runtime.cli.PaddockCli.commandLine().execute("exec",
            "--server", "127.0.0.1:" + host.port(), "--api-key", host.alphaKey,
            "--tls-ca", pki.resolve("ca.pem").toString(),
            "--tls-cert", pki.resolve("client.pem").toString(), "--tls-key", pki.resolve("client.key").toString(),
            "--no-stdin", "--", "echo", "cli over mtls");
      } finally {
        System.setOut(stdout);
      }
      assertThat(exit).isZero();
      assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("cli over mtls\n");
    }
  }

  private ManagedChannel channel(TestHost host, ChannelCredentials credentials) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + host.alphaKey);
    return NettyChannelBuilder.forAddress("127.0.0.1", host.port(), credentials)
        .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
  }

  /** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
  private static void makeCertificates(Path dir) throws Exception {
    Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\n");
    Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=paddock-test-ca");
    for (String who : List.of("server", "client")) {
      openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", who + ".key", "-out", who + ".csr",
          "-subj", "/CN=paddock-test-" + who);
      openssl(dir, "x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
          "-out", who + ".pem", "-days", "1", "-extfile", who + ".ext");
    }
  }

  private static void openssl(Path dir, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("openssl %s: %s", args[0], output).isZero();
  }
}
