package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.Envelope;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The host's end of an {@link Agent} made on two {@link Pipe}s. A thread reads the agent's frames
 * into {@link #requests()}; with a handler, it also answers each one at once (the handler returns
 * the reply without id, or null for no reply).
 */
final class FakeHost implements AutoCloseable {
  private final Pipe toHost;
  private final Pipe toAgent;
  private final Agent agent;
  private final OutputStream hostOut;
  private final BlockingQueue<Envelope> requests = new LinkedBlockingQueue<>();
  private final Thread reader;
  private volatile boolean agentClosed;

  FakeHost(int maxFrame, Function<Envelope, Envelope.Builder> handler) throws IOException {
    toHost = Pipe.open();
    toAgent = Pipe.open();
    agent = new Agent(Channels.newInputStream(toAgent.source()), Channels.newOutputStream(toHost.sink()), maxFrame);
    hostOut = Channels.newOutputStream(toAgent.sink());
    DataInputStream hostIn = new DataInputStream(Channels.newInputStream(toHost.source()));
    reader = new Thread(() -> {
      try {
        while (true) {
          int length;
          try {
            length = hostIn.readInt();
          } catch (EOFException e) {
            agentClosed = true;
            return;
          }
          byte[] body = new byte[length];
          hostIn.readFully(body);
          Envelope request = Envelope.parseFrom(body);
          requests.add(request);
          if (handler != null) {
            Envelope.Builder reply = handler.apply(request);
            if (reply != null) {
              reply(reply.setId(request.getId()).build());
            }
          }
        }
      } catch (IOException e) {
        agentClosed = true;
      }
    }, "fake-host");
    reader.setDaemon(true);
    reader.start();
  }

  /** A host that answers nothing by itself. */
  FakeHost() throws IOException {
    this(Framing.DEFAULT_MAX_FRAME, null);
  }

  /** A host that answers every request with the handler. */
  FakeHost(Function<Envelope, Envelope.Builder> handler) throws IOException {
    this(Framing.DEFAULT_MAX_FRAME, handler);
  }

  Agent agent() {
    return agent;
  }

  BlockingQueue<Envelope> requests() {
    return requests;
  }

  /** The next request the agent sent; fails after 10 s. */
  Envelope take() throws InterruptedException {
    Envelope request = requests.poll(10, TimeUnit.SECONDS);
    if (request == null) {
      throw new AssertionError("the agent sent no request within 10 s");
    }
    return request;
  }

  /** Sends one frame to the agent. */
  synchronized void reply(Envelope reply) throws IOException {
    byte[] body = reply.toByteArray();
    writeRaw(ByteBuffer.allocate(4).putInt(body.length).array());
    writeRaw(body);
  }

  /** Sends raw bytes to the agent. */
  synchronized void writeRaw(byte[] bytes) throws IOException {
    hostOut.write(bytes);
    hostOut.flush();
  }

  /** Closes the host's sending side: the agent sees end of stream. */
  void closeOutput() throws IOException {
    toAgent.sink().close();
  }

  /** True once the agent closed its sending side. */
  boolean agentClosed() throws InterruptedException {
    reader.join(10_000);
    return agentClosed;
  }

  @Override
  public void close() throws IOException {
    toAgent.sink().close();
    toHost.source().close();
  }
}
