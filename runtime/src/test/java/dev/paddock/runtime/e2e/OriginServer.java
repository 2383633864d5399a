package dev.paddock.runtime.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The far side of the egress tests: an HTTP server on 127.0.0.1 that the test tenant reaches by
 * names under paddock.test. Serves a greeting, a PEP 503 package index with one wheel (for pip),
 * a large body (for the throughput benchmark) and a page that records the Authorization header it
 * received without echoing it.
 */
final class OriginServer implements AutoCloseable {
  static final String GREETING = "hello from the origin\n";
  static final String WHEEL = "paddock_demo-1.0-py3-none-any.whl";

  private final HttpServer server;
  private final byte[] wheel;
  /** Authorization headers received by /auth, in order. */
  final List<String> authorizations = new CopyOnWriteArrayList<>();
  /** Request paths, in order. */
  final List<String> paths = new CopyOnWriteArrayList<>();

  OriginServer() throws IOException {
    wheel = wheel();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/", this::handle);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    paths.add(path);
    try (ex) {
      if (path.equals("/hello")) {
        reply(ex, "text/plain", GREETING.getBytes(StandardCharsets.UTF_8));
      } else if (path.startsWith("/bytes/")) {
        long n = Long.parseLong(path.substring("/bytes/".length()));
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(200, n);
        byte[] chunk = new byte[64 * 1024];
        for (long left = n; left > 0; left -= chunk.length) {
          ex.getResponseBody().write(chunk, 0, (int) Math.min(chunk.length, left));
        }
      } else if (path.equals("/auth")) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        authorizations.add(auth == null ? "" : auth);
        reply(ex, "text/plain", ("auth header present: " + (auth != null) + "\n").getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/simple/paddock-demo/")) {
        String sha = HexFormat.of().formatHex(sha256(wheel));
        reply(ex, "text/html", ("<!DOCTYPE html><html><body><a href=\"/packages/" + WHEEL + "#sha256=" + sha + "\">" + WHEEL
            + "</a></body></html>").getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/packages/" + WHEEL)) {
        reply(ex, "application/octet-stream", wheel);
      } else {
        ex.sendResponseHeaders(404, -1);
      }
    }
  }

  private static void reply(HttpExchange ex, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(200, body.length);
    ex.getResponseBody().write(body);
  }

  /** A minimal valid wheel: a package, METADATA, WHEEL and RECORD. */
  private static byte[] wheel() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      entry(zip, "paddock_demo/__init__.py", "VALUE = 42\n");
      entry(zip, "paddock_demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: paddock-demo\nVersion: 1.0\n");
      entry(zip, "paddock_demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: paddock-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
      entry(zip, "paddock_demo-1.0.dist-info/RECORD", "paddock_demo/__init__.py,,\npaddock_demo-1.0.dist-info/METADATA,,\n"
          + "paddock_demo-1.0.dist-info/WHEEL,,\npaddock_demo-1.0.dist-info/RECORD,,\n");
    }
    return bytes.toByteArray();
  }

  private static void entry(ZipOutputStream zip, String name, String text) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(text.getBytes(StandardCharsets.UTF_8));
    zip.closeEntry();
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
