package dev.paddock.runtime.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for the host's gRPC port.
 *
 * @param certChain PEM certificate chain the host presents
 * @param privateKey PEM private key of that certificate (PKCS#8)
 * @param clientCa  PEM CA certificates; when set, every client must present a certificate signed
 *                  by one of them (mutual TLS); null = server-side TLS only
 */
public record TlsConfig(Path certChain, Path privateKey, Path clientCa) {
  public TlsConfig {
    Objects.requireNonNull(certChain, "certChain");
    Objects.requireNonNull(privateKey, "privateKey");
  }
}
