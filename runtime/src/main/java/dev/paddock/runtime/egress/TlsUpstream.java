package dev.paddock.runtime.egress;

import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS connection the proxy makes itself for a request whose header secret must only travel
 * encrypted: the destination's certificate is checked against the host name (the JVM's roots, or
 * the operator's {@code upstreamCa}), and bytes are copied between it and the jail's plain
 * connection by two threads. Slower than the splice relay; used only for such requests.
 */
final class TlsUpstream implements AutoCloseable {
  private static final int BUFFER_BYTES = 64 * 1024;
  private final SSLSocket socket;

  private TlsUpstream(SSLSocket socket) {
    this.socket = socket;
  }

  /** Connects to {@code address:port}, completes the handshake and checks the certificate is for {@code host}. */
  static TlsUpstream connect(InetAddress address, int port, String host, int timeoutMillis, Path trustedPem)
      throws IOException {
    SSLSocket s = (SSLSocket) context(trustedPem).getSocketFactory().createSocket();
    try {
      SSLParameters params = s.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      params.setServerNames(java.util.List.of(new SNIHostName(host)));
      s.setSSLParameters(params);
      s.connect(new InetSocketAddress(address, port), timeoutMillis);
      s.setSoTimeout(timeoutMillis);
      s.startHandshake();
      s.setSoTimeout(0);
      s.setTcpNoDelay(true);
      return new TlsUpstream(s);
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private static SSLContext context(Path trustedPem) throws IOException {
    try {
      if (trustedPem == null) {
        return SSLContext.getDefault();
      }
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int n = 0;
      try (InputStream in = Files.newInputStream(trustedPem)) {
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          trust.setCertificateEntry("ca-" + n++, c);
        }
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException("the proxy's trusted certificates cannot be used: " + e.getMessage());
    }
  }

  void write(byte[] data) throws IOException {
    socket.getOutputStream().write(data);
    socket.getOutputStream().flush();
  }

  /**
   * Copies both ways until the destination is done: the jail's bytes to the destination on a
   * worker, the destination's back on this thread; then {@code endClient} cuts the jail's side.
   * Each moved count goes to {@code out} / {@code in}.
   */
  void relay(Fd client, LinuxSyscalls linux, ExecutorService workers, Throttle throttle, LongConsumer out, LongConsumer in,
      Runnable endClient) throws InterruptedException {
    Future<?> up = workers.submit(() -> {
      byte[] buf = new byte[BUFFER_BYTES];
      try {
        OutputStream o = socket.getOutputStream();
        int n;
        while ((n = linux.read(client, buf, 0, buf.length)) > 0) {
          o.write(buf, 0, n);
          o.flush();
          out.accept(n);
          throttle.take(n);
        }
        socket.shutdownOutput();
      } catch (IOException | NativeException | UnsupportedOperationException e) {
        close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    });
    byte[] buf = new byte[BUFFER_BYTES];
    try {
      InputStream i = socket.getInputStream();
      int n;
      while ((n = i.read(buf)) > 0) {
        linux.writeAll(client, buf, 0, n);
        in.accept(n);
        throttle.take(n);
      }
    } catch (IOException | NativeException e) {
      // either side went away: both directions end
    }
    // The destination is done (each request has its own connection): the exchange is over.
    close();
    endClient.run();
    try {
      up.get();
    } catch (java.util.concurrent.ExecutionException e) {
      // ended with the connection
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
