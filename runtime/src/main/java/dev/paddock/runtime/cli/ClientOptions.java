package dev.paddock.runtime.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every client command shares (a picocli mixin, see {@link ClientCommand}): where the
 * host is, the API key, TLS, and {@code --json}. {@link #run} connects, runs the command and turns
 * failures into the documented output and exit codes.
 */
final class ClientOptions {
  @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "${env:PADDOCK_SERVER:-127.0.0.1:50051}",
      description = "Host address. Default: $PADDOCK_SERVER, else 127.0.0.1:50051.")
  String server;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:PADDOCK_API_KEY}",
      description = "API key (sent as 'authorization: Bearer KEY'). Default: $PADDOCK_API_KEY.")
  String apiKey;

  @Option(names = "--tls-ca", paramLabel = "PEM", defaultValue = "${env:PADDOCK_TLS_CA}",
      description = "CA certificates (PEM) to verify the host's TLS certificate: connect with TLS. "
          + "Default: $PADDOCK_TLS_CA; without it and without --tls-cert, plaintext.")
  Path tlsCa;

  @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:PADDOCK_TLS_CERT}",
      description = "Client certificate chain (PEM), for a host that requires mutual TLS; implies TLS. Default: $PADDOCK_TLS_CERT.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:PADDOCK_TLS_KEY}",
      description = "Private key (PEM, PKCS#8) of --tls-cert. Default: $PADDOCK_TLS_KEY.")
  Path tlsKey;

  @Option(names = "--json",
      description = "Machine-readable output: one JSON object per line on stdout (protobuf messages in the proto3 JSON "
          + "mapping, 64-bit numbers as strings); errors also as {\"error\": {...}}.")
  boolean json;

  /** A client builder for {@link #server} with the TLS options given (no key: callers add it when the call needs one). */
  dev.paddock.client.Paddock.Builder builder() {
    dev.paddock.client.Paddock.Builder builder = dev.paddock.client.Paddock.builder().target(server);
    if (tlsCa != null) {
      builder.tls(tlsCa);
    }
    if (tlsCert != null) {
      builder.clientCertificate(tlsCert, tlsKey);
    }
    return builder;
  }

  /** Something a client command does with a connected {@link Client}; returns the exit code. */
  interface Action {
    int run(Client client) throws Exception;
  }

  /**
   * Connects, runs {@code action} and closes the connection. A refused call prints
   * {@code error: REASON: message (request ID)} on stderr and exits 120 (121 for JAIL_UNAVAILABLE);
   * a local failure (no key, unreadable file) prints {@code error: …} and exits 120.
   */
  int run(Action action) throws Exception {
    Output out = new Output(System.out, System.err, json);
    if (apiKey == null || apiKey.isBlank()) {
      return out.fail("no API key: pass --api-key or set PADDOCK_API_KEY");
    }
    if ((tlsCert == null) != (tlsKey == null)) {
      return out.fail("--tls-cert and --tls-key go together");
    }
    dev.paddock.client.Paddock paddock;
    try {
      paddock = builder().apiKey(apiKey).build();
      // Connect now, on the client's own thread, while this one goes on parsing and building the request.
      paddock.channel().getState(true);
    } catch (IllegalArgumentException | IllegalStateException e) {
      return out.fail("cannot set up the connection to " + server + ": " + e.getMessage());
    }
    try (Client client = new Client(paddock, out)) {
      return action.run(client);
    } catch (dev.paddock.client.PaddockException e) {
      return out.fail(CallError.of(e));
    } catch (IOException e) {
      return out.fail(Client.describe(e));
    }
  }

}
