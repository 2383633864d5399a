package dev.paddock.runtime.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Serves {@link HostMetrics} for Prometheus on an address of its own ({@code GET /metrics}, text
 * format 0.0.4), apart from the gRPC port: scraping needs no API key, so the operator decides who
 * can reach it by where it listens (loopback by default).
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final HttpServer server;

  public MetricsEndpoint(InetSocketAddress address, HostMetrics metrics) throws IOException {
    server = HttpServer.create(address, 16);
    server.createContext("/metrics", exchange -> serve(exchange, metrics));
    server.createContext("/", exchange -> reply(exchange, 404, "text/plain", "see /metrics\n"));
    server.setExecutor(java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-endpoint");
      t.setDaemon(true);
      return t;
    }));
    server.start();
  }

  /** Where it listens (the port chosen when asked for 0). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private static void serve(HttpExchange exchange, HostMetrics metrics) throws IOException {
    if (!exchange.getRequestMethod().equals("GET")) {
      reply(exchange, 405, "text/plain", "GET only\n");
      return;
    }
    reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
  }

  private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
