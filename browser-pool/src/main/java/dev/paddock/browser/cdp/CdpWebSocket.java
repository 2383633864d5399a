package dev.paddock.browser.cdp;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The DevTools protocol over a WebSocket (a remote browser service's endpoint, or a Chromium's
 * {@code --remote-debugging-port}), with the JDK's own client: one JSON message per text message.
 */
public final class CdpWebSocket {
  /**
   * One HTTP client for the JVM's DevTools connections: Java 17's client cannot be closed, and one
   * dropped gives its selector's descriptors back whenever the collector gets to it.
   */
  public static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private CdpWebSocket() {}

  /**
   * The browser WebSocket a DevTools HTTP endpoint names at its {@code /json/version} (Chromium's
   * {@code --remote-debugging-port}, and services that follow it).
   *
   * @throws Refused when it answers another HTTP status (429: at its quota)
   * @throws IOException when it cannot be reached or names none
   */
  public static URI discover(URI httpEndpoint, Map<String, String> headers, Duration timeout) throws IOException {
    java.net.http.HttpRequest.Builder get = java.net.http.HttpRequest.newBuilder(httpEndpoint.resolve("/json/version"))
        .timeout(timeout).GET();
    headers.forEach(get::header);
    java.net.http.HttpResponse<String> version;
    try {
      version = HTTP.send(get.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    if (version.statusCode() != 200) {
      throw new Refused(version.statusCode(), version.headers().firstValue("Retry-After"));
    }
    String ws = JSON.readTree(version.body()).path("webSocketDebuggerUrl").asText("");
    if (!ws.startsWith("ws://") && !ws.startsWith("wss://")) {
      throw new IOException("its /json/version names no webSocketDebuggerUrl");
    }
    return URI.create(ws);
  }

  /** The endpoint refused the handshake with an HTTP status (429: at its quota). */
  public static final class Refused extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final transient java.util.Optional<String> retryAfter;

    Refused(int status, java.util.Optional<String> retryAfter) {
      super("the DevTools endpoint answered HTTP " + status);
      this.status = status;
      this.retryAfter = retryAfter;
    }

    public int status() {
      return status;
    }

    /** Its Retry-After header, if it sent one. */
    public java.util.Optional<String> retryAfter() {
      return retryAfter;
    }
  }

  /**
   * Connects to {@code endpoint} (ws: or wss:) with {@code headers} (e.g. the service's
   * credentials), within {@code timeout}.
   */
  public static CdpConnection connect(HttpClient client, URI endpoint, Map<String, String> headers, Duration timeout)
      throws IOException {
    Receiver receiver = new Receiver();
    WebSocket.Builder builder = client.newWebSocketBuilder().connectTimeout(timeout);
    headers.forEach(builder::header);
    WebSocket socket;
    try {
      socket = builder.buildAsync(endpoint, receiver).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof java.net.http.WebSocketHandshakeException h) {
        throw new Refused(h.getResponse().statusCode(), h.getResponse().headers().firstValue("Retry-After"));
      }
      throw new IOException("cannot connect to the DevTools endpoint: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("the DevTools endpoint did not answer within " + timeout.toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    CdpConnection cdp = new CdpConnection(new CdpConnection.Transport() {
      @Override
      public synchronized void send(byte[] message) throws IOException {
        try { // one send at a time: the client refuses a second while one is under way
          socket.sendText(new String(message, StandardCharsets.UTF_8), true).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          throw new IOException("the DevTools endpoint does not take messages: " + e, e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted");
        }
      }

      @Override
      public void close() {
        socket.abort();
      }
    });
    receiver.cdp = cdp;
    socket.request(1);
    return cdp;
  }

  /** Hands whole text messages to the connection; ends it when the socket ends. */
  private static final class Receiver implements WebSocket.Listener {
    private final StringBuilder message = new StringBuilder();
    volatile CdpConnection cdp;

    @Override
    public void onOpen(WebSocket socket) {
      // read only once the connection exists: connect() asks for the first message
    }

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
      message.append(data);
      if (message.length() > CdpConnection.MAX_MESSAGE_BYTES) {
        cdp.end("the DevTools endpoint sent a message over " + CdpConnection.MAX_MESSAGE_BYTES + " bytes");
        socket.abort();
        return null;
      }
      if (last) {
        byte[] whole = message.toString().getBytes(StandardCharsets.UTF_8);
        message.setLength(0);
        cdp.received(whole);
      }
      socket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
      cdp.end("the DevTools endpoint closed the connection (" + status + (reason.isEmpty() ? "" : " " + reason) + ")");
      return null;
    }

    @Override
    public void onError(WebSocket socket, Throwable error) {
      cdp.end("the DevTools connection failed: " + error.getMessage());
    }
  }
}
