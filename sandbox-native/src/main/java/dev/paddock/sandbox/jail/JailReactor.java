package dev.paddock.sandbox.jail;

import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.LinuxSyscalls;
import dev.paddock.sandbox.linux.NativeException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that waits on every session jail's control channel and nsjail pidfd at once (epoll),
 * so 500 idle sessions cost one thread, not 500. Handlers run on that thread and must not block:
 * they read what is ready, complete futures and send small non-blocking frames.
 */
final class JailReactor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JailReactor.class);
  private static final int BATCH = 64;

  private final LinuxSyscalls linux;
  private final Fd epoll;
  private final Map<Long, Runnable> handlers = new ConcurrentHashMap<>();
  private final AtomicLong nextToken = new AtomicLong(1);
  private final Thread thread;
  private volatile boolean closed;

  JailReactor(LinuxSyscalls linux) throws NativeException {
    this.linux = linux;
    this.epoll = linux.epollCreate();
    this.thread = new Thread(this::loop, "paddock-jail-reactor");
    thread.setDaemon(true);
    thread.start();
  }

  /** A token for {@link #register}, handed out first so its owner knows it before any event fires. */
  long newToken() {
    return nextToken.getAndIncrement();
  }

  /** Calls {@code onReady} on the reactor thread whenever {@code fd} is readable (level-triggered). */
  long register(Fd fd, Runnable onReady) throws NativeException {
    return register(fd, newToken(), onReady);
  }

  /** As {@link #register(Fd, Runnable)}, under a token from {@link #newToken()}. */
  long register(Fd fd, long token, Runnable onReady) throws NativeException {
    handlers.put(token, onReady);
    try {
      linux.epollAdd(epoll, fd, token);
    } catch (NativeException e) {
      handlers.remove(token);
      throw e;
    }
    return token;
  }

  /** Stops watching {@code fd}; call before closing it. */
  void unregister(Fd fd, long token) {
    handlers.remove(token);
    if (fd.isOpen()) {
      linux.epollRemove(epoll, fd);
    }
  }

  private void loop() {
    long[] tokens = new long[BATCH];
    while (!closed) {
      int n;
      try {
        n = linux.epollWait(epoll, tokens, 500);
      } catch (NativeException e) {
        log.error("jail reactor: epoll_wait failed", e);
        sleep();
        continue;
      }
      for (int i = 0; i < n; i++) {
        Runnable handler = handlers.get(tokens[i]);
        if (handler == null) {
          continue;
        }
        try {
          handler.run();
        } catch (RuntimeException e) {
          log.error("jail reactor: a handler failed", e);
        }
      }
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    linux.close(epoll);
  }
}
