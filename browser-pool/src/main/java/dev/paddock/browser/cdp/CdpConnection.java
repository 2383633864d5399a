package dev.paddock.browser.cdp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.paddock.browser.BrowserException;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The Chrome DevTools protocol over one of its transports: Chromium's {@code --remote-debugging-pipe}
 * ({@link #overPipe}: JSON messages each ended by a NUL byte, commands written to one descriptor,
 * answers and events read from the other) or a DevTools WebSocket ({@link CdpWebSocket}: one JSON
 * message per text message). Commands are matched to answers by id; events go to listeners. A
 * message over {@link #MAX_MESSAGE_BYTES} (a hostile or broken browser) ends the connection
 * instead of growing the host.
 */
public final class CdpConnection implements AutoCloseable {
  /** Largest message read (a full-page screenshot is a few MiB of base64). */
  public static final int MAX_MESSAGE_BYTES = 64 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where commands go. */
  public interface Transport {
    /** Sends one whole message (JSON, UTF-8). */
    void send(byte[] message) throws IOException;

    /** Closes the transport; no more messages arrive. */
    void close();
  }

  private final Transport transport;
  private final AtomicLong ids = new AtomicLong();
  private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<String> closed = new CompletableFuture<>();
  /** Commands of DevTools clients in flight, by the id they were sent with: whose, and their own id. */
  private final Map<Long, Relayed> relayed = new ConcurrentHashMap<>();
  private final CopyOnWriteArrayList<Client> clients = new CopyOnWriteArrayList<>();

  /** A command of a client's, sent on under a new id. */
  private record Relayed(Client client, JsonNode clientId) {}

  /**
   * A DevTools client sharing this connection (Playwright, Puppeteer...): its commands go to the
   * browser under ids of this connection's, their answers come back under its own ids, and it
   * gets every event. Made by {@link #attachClient}.
   */
  public final class Client implements AutoCloseable {
    private final Consumer<String> toClient;
    private final Consumer<String> onEnd;

    private Client(Consumer<String> toClient, Consumer<String> onEnd) {
      this.toClient = toClient;
      this.onEnd = onEnd;
    }

    /**
     * One message from the client: a command with a numeric "id" and a "method". Anything else is
     * refused with the protocol's own error answer, or (not JSON) dropped.
     */
    public void send(String message) {
      JsonNode node;
      try {
        node = JSON.readTree(message);
      } catch (IOException e) {
        return;
      }
      if (!(node instanceof ObjectNode command) || !command.path("id").isIntegralNumber() || !command.path("method").isTextual()) {
        if (node != null && node.has("id")) {
          toClient.accept("{\"id\":" + node.get("id") + ",\"error\":{\"code\":-32600,\"message\":\"not a command\"}}");
        }
        return;
      }
      long id = ids.incrementAndGet();
      relayed.put(id, new Relayed(this, command.get("id")));
      command.put("id", id);
      try {
        if (closed.isDone()) {
          throw new IOException(closed.getNow(""));
        }
        transport.send(JSON.writeValueAsBytes(command));
      } catch (IOException e) {
        relayed.remove(id);
        end("the browser does not take commands: " + e.getMessage());
      }
    }

    /** Detaches the client; its commands in flight get no answer. */
    @Override
    public void close() {
      clients.remove(this);
      relayed.values().removeIf(r -> r.client() == this);
    }
  }

  /**
   * Attaches a DevTools client: {@code toClient} gets the answers to its commands and every event;
   * {@code onEnd} is told why, once, when the browser's connection ends.
   */
  public Client attachClient(Consumer<String> toClient, Consumer<String> onEnd) {
    Client client = new Client(toClient, onEnd);
    clients.add(client);
    if (closed.isDone()) { // ended while attaching
      client.close();
      onEnd.accept(closed.getNow(""));
    }
    return client;
  }

  /** A connection sending over {@code transport}; its receiving side calls {@link #received} and {@link #end}. */
  public CdpConnection(Transport transport) {
    this.transport = transport;
  }

  /** A connection over Chromium's DevTools pipe: commands to {@code toBrowser}, the rest from {@code fromBrowser}. */
  public static CdpConnection overPipe(LinuxSyscalls linux, Fd toBrowser, Fd fromBrowser, String name) {
    CdpConnection cdp = new CdpConnection(new Transport() {
      @Override
      public void send(byte[] message) throws IOException {
        byte[] framed = java.util.Arrays.copyOf(message, message.length + 1); // ends with NUL
        try {
          synchronized (toBrowser) {
            linux.writeAll(toBrowser, framed, 0, framed.length);
          }
        } catch (NativeException e) {
          throw new IOException(e.getMessage(), e);
        }
      }

      @Override
      public void close() {
        // the descriptors belong to the browser's process
      }
    });
    Thread reader = new Thread(() -> cdp.readPipe(linux, fromBrowser), "cdp-" + name);
    reader.setDaemon(true);
    reader.start();
    return cdp;
  }

  /** Calls {@code listener} with why, once, when the connection ends (at once if it has). */
  public void whenEnded(Consumer<String> listener) {
    closed.thenAccept(listener);
  }

  /** False once the browser closed its side, or this side closed. */
  public boolean open() {
    return !closed.isDone();
  }

  /** Calls {@code listener} with every event (a message with a "method" and no "id"). */
  public void onEvent(Consumer<JsonNode> listener) {
    listeners.add(listener);
  }

  public void removeListener(Consumer<JsonNode> listener) {
    listeners.remove(listener);
  }

  /**
   * Sends {@code method} with {@code params} (to {@code session}, a page's flat session id, or the
   * browser when null) and waits for its result.
   */
  public JsonNode call(String session, String method, ObjectNode params, Duration timeout) throws BrowserException {
    long id = ids.incrementAndGet();
    ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
    message.set("params", params == null ? JSON.createObjectNode() : params);
    if (session != null) {
      message.put("sessionId", session);
    }
    CompletableFuture<JsonNode> answer = new CompletableFuture<>();
    pending.put(id, answer);
    try {
      if (closed.isDone()) {
        throw new BrowserException("the browser is gone: " + closed.getNow(""));
      }
      transport.send(JSON.writeValueAsBytes(message));
      JsonNode reply = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (reply.has("error")) {
        throw new BrowserException(method + " failed: " + reply.get("error").path("message").asText());
      }
      return reply.path("result");
    } catch (IOException e) {
      throw new BrowserException("the browser does not take commands: " + e.getMessage(), e);
    } catch (TimeoutException e) {
      throw new BrowserException(BrowserException.Kind.TIMEOUT, method + " got no answer within " + timeout.toMillis() + " ms");
    } catch (ExecutionException e) {
      throw new BrowserException("the browser is gone: " + e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BrowserException("interrupted");
    } finally {
      pending.remove(id);
    }
  }

  public static ObjectNode params() {
    return JSON.createObjectNode();
  }

  /** {@code value} as a JSON string literal, for quoting text into a script. */
  static String quote(String value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new IllegalStateException(e); // a String always serializes
    }
  }

  /** {@code node} as JSON text. */
  static String toJson(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void readPipe(LinuxSyscalls linux, Fd fromBrowser) {
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    byte[] buf = new byte[64 * 1024];
    try {
      while (true) {
        int n = linux.read(fromBrowser, buf, 0, buf.length);
        if (n <= 0) {
          end("the browser closed its DevTools pipe");
          return;
        }
        int from = 0;
        for (int i = 0; i < n; i++) {
          if (buf[i] == 0) {
            message.write(buf, from, i - from);
            received(message.toByteArray());
            message.reset();
            from = i + 1;
          }
        }
        message.write(buf, from, n - from);
        if (message.size() > MAX_MESSAGE_BYTES) {
          end("the browser sent a DevTools message over " + MAX_MESSAGE_BYTES + " bytes");
          return;
        }
      }
    } catch (NativeException | RuntimeException e) {
      end("reading the browser's DevTools pipe failed: " + e.getMessage());
    }
  }

  /** One whole message from the browser. */
  public void received(byte[] bytes) {
    JsonNode node;
    try {
      node = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
    } catch (IOException e) {
      end("the browser sent a DevTools message that is not JSON");
      return;
    }
    if (node.has("id")) {
      long id = node.get("id").asLong();
      CompletableFuture<JsonNode> answer = pending.get(id);
      if (answer != null) {
        answer.complete(node);
        return;
      }
      Relayed r = relayed.remove(id);
      if (r != null && node instanceof ObjectNode o) {
        o.set("id", r.clientId());
        r.client().toClient.accept(toJson(o));
      }
    } else if (node.has("method")) {
      listeners.forEach(l -> l.accept(node));
      if (!clients.isEmpty()) {
        String event = new String(bytes, StandardCharsets.UTF_8);
        clients.forEach(c -> c.toClient.accept(event));
      }
    }
  }

  /** The connection ended (the browser went, or the transport failed): every waiting call fails. */
  public void end(String why) {
    if (!closed.complete(why)) {
      return;
    }
    pending.values().forEach(f -> f.completeExceptionally(new IOException(why)));
    relayed.clear();
    for (Client c : clients) {
      clients.remove(c);
      c.onEnd.accept(why);
    }
  }

  @Override
  public void close() {
    end("closed");
    transport.close();
  }
}
