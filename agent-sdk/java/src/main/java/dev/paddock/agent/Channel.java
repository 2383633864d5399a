package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.Envelope;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Request/reply over one stream: gives each request a fresh id, writes its frame whole, and reads
 * replies on the calling threads (see {@link PendingCalls}). Thread-safe.
 */
final class Channel {
  private final InputStream in;
  private final OutputStream out;
  private final Framing framing;
  private final PendingCalls pending = new PendingCalls();
  private final AtomicLong ids = new AtomicLong();
  /** Keeps frames whole on the stream, and keeps the descriptor open while a write runs. */
  private final ReentrantLock writeLock = new ReentrantLock();

  Channel(InputStream in, OutputStream out, int maxFrame) {
    this.in = in;
    this.out = out;
    this.framing = new Framing(in, maxFrame);
  }

  int maxFrame() {
    return framing.maxFrame();
  }

  /**
   * Sends a request and waits for the envelope that answers it (a reply or an error).
   *
   * @param request the request, without id (the id is set here)
   * @throws PayloadTooLargeException if the frame would be over the limit; nothing is sent
   * @throws ChannelClosedException if the channel is, or becomes, closed or broken
   */
  Envelope call(Envelope.Builder request) {
    long id = ids.incrementAndGet();
    byte[] frame = framing.encode(request.setId(id).build());
    PendingCalls.Call call = pending.register(id);
    send(frame);
    if (pending.awaitTurn(call)) {
      try {
        readUntilDone(call);
      } finally {
        if (pending.leaveReader()) {
          release();
        }
      }
    }
    return call.reply();
  }

  /** Refuses new calls; the descriptor is closed now, or when the last outstanding reply is in. */
  void close() {
    if (pending.close()) {
      release();
    }
  }

  private void send(byte[] frame) {
    IOException failure = null;
    writeLock.lock();
    try {
      out.write(frame);
      out.flush();
    } catch (IOException e) {
      failure = e;
    } finally {
      writeLock.unlock();
    }
    if (failure != null) {
      // A frame may be half written: the stream is out of step for good.
      breakChannel(new ChannelClosedException("writing to the IPC channel failed: " + failure.getMessage(), failure));
    }
  }

  private void readUntilDone(PendingCalls.Call call) {
    while (!call.isDone()) {
      Envelope reply;
      try {
        reply = framing.read();
      } catch (ProtocolException e) {
        breakChannel(new ChannelClosedException(e.getMessage(), e));
        return;
      } catch (EOFException e) {
        breakChannel(new ChannelClosedException("the host closed the IPC channel in the middle of a frame", e));
        return;
      } catch (IOException e) {
        breakChannel(new ChannelClosedException("reading the IPC channel failed: " + e.getMessage(), e));
        return;
      } catch (RuntimeException | Error e) {
        // Say, no memory for a large frame: the stream is out of step, so nobody may read on.
        breakChannel(new ChannelClosedException("reading the IPC channel failed: " + e, e));
        return;
      }
      if (reply == null) {
        breakChannel(new ChannelClosedException("the host closed the IPC channel", null));
        return;
      }
      pending.complete(reply);
    }
  }

  private void breakChannel(ChannelClosedException cause) {
    if (pending.fail(cause)) {
      release();
    }
  }

  /** Closes the descriptor; runs once, when nobody reads and no call is outstanding. */
  private void release() {
    writeLock.lock();
    try {
      out.close();
    } catch (IOException ignored) {
      // Nothing more to do with it.
    } finally {
      try {
        in.close();
      } catch (IOException ignored) {
        // Likewise.
      }
      writeLock.unlock();
    }
  }
}
