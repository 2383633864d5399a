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
  /** The bodies of the forms posted to /login. */
  final List<String> logins = new CopyOnWriteArrayList<>();

  OriginServer() throws IOException {
    this(null);
  }

  /**
   * An SSL context whose key and self-signed certificate for {@code name} openssl makes in
   * {@code dir}; the certificate (PEM) is copied to {@code trustedPem} for the side that checks it.
   */
  static javax.net.ssl.SSLContext selfSigned(java.nio.file.Path dir, String name, java.nio.file.Path trustedPem) throws Exception {
    openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
        "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name);
    openssl(dir, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "server.p12", "-passout", "pass:origin");
    java.nio.file.Files.copy(dir.resolve("cert.pem"), trustedPem, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    try (var in = java.nio.file.Files.newInputStream(dir.resolve("server.p12"))) {
      ks.load(in, "origin".toCharArray());
    }
    javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "origin".toCharArray());
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  private static void openssl(java.nio.file.Path dir, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    dev.paddock.sandbox.ToolRun run = dev.paddock.sandbox.ToolRun.run(dir, java.util.Map.of(), java.time.Duration.ofMinutes(1),
        command);
    if (run.exit() != 0) {
      throw new IOException("openssl " + args[0] + " failed: " + run.output());
    }
  }

  /** With {@code tls}, an HTTPS server (its certificate in the context), else plain HTTP. */
  OriginServer(javax.net.ssl.SSLContext tls) throws IOException {
    wheel = wheel();
    if (tls == null) {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    } else {
      com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
      https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
      server = https;
    }
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
      if (path.equals("/set-state")) {
        reply(ex, "text/html", ("<html><head><script>document.cookie = 'task=A; path=/; max-age=3600';"
            + " localStorage.setItem('task', 'A'); document.title = 'set';</script></head><body></body></html>")
            .getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/show-state")) {
        reply(ex, "text/html", ("<html><head><script>document.title = 'cookie=' + document.cookie + ' storage='"
            + " + (localStorage.getItem('task') || '');</script></head><body></body></html>").getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/page")) {
        reply(ex, "text/html", "<html><head><title>Origin page</title></head><body><p>served on loopback</p></body></html>"
            .getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/subresource")) {
        // An allowed page whose image is on a denied host (same port): the browser asks for it through the proxy.
        String port = ex.getRequestHeaders().getFirst("Host").replaceAll(".*:", "");
        reply(ex, "text/html", ("<html><head><title>With image</title></head><body><img src=\"http://blocked.paddock.test:"
            + port + "/pixel.png\"></body></html>").getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/form")) {
        // A field, a button that shows what was typed (after a click), one that never enables, one
        // that appears late.
        reply(ex, "text/html", ("<html><head><title>Form</title></head><body>"
            + "<input id=\"name\" value=\"old\"><button id=\"go\" onclick=\"document.title = 'hello ' + "
            + "document.getElementById('name').value + ' x' + (++window.clicks || (window.clicks = 1))\">Go</button>"
            + "<button id=\"off\" disabled>Off</button><p id=\"late\"></p>"
            + "<script>setTimeout(() => { document.getElementById('late').innerHTML = '<a id=\"later\" href=\"#\" "
            + "onclick=\"document.title = \\'late\\'\">later</a>'; }, 300);</script>"
            + "</body></html>").getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/login") && ex.getRequestMethod().equals("POST")) {
        logins.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        reply(ex, "text/html", "<html><head><title>Welcome</title></head><body>logged in</body></html>"
            .getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/login")) {
        // A login form whose password field counts what its input events saw.
        reply(ex, "text/html", ("<html><head><title>Login</title></head><body>"
            + "<form method=\"post\" action=\"/login\"><input id=\"user\" name=\"user\">"
            + "<input id=\"pass\" name=\"pass\" type=\"password\""
            + " oninput=\"document.title = 'typed ' + this.value.length\"><button id=\"login\">Log in</button></form>"
            + "</body></html>").getBytes(StandardCharsets.UTF_8));
      } else if (path.equals("/hello")) {
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
