package dev.paddock.runtime.egress;

import dev.paddock.runtime.session.Session;
import dev.paddock.sandbox.jail.EgressListeners;
import dev.paddock.sandbox.linux.Errno;
import dev.paddock.sandbox.linux.Fd;
import dev.paddock.sandbox.linux.NativeException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One session's egress: a thread that accepts on the jail's two listeners and hands each
 * connection to a worker, and the connections still open. Only this thread ever closes the
 * listeners, after it stopped polling them, so a descriptor number is never reused under it.
 */
final class SessionEgress {
  private static final Logger log = LoggerFactory.getLogger(SessionEgress.class);

  final EgressProxy proxy;
  final Session session;
  private final EgressListeners listeners;
  private final Fd[] wake;
  private final Set<ProxiedConnection> connections = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  SessionEgress(EgressProxy proxy, Session session, EgressListeners listeners) throws NativeException {
    this.proxy = proxy;
    this.session = session;
    this.listeners = listeners;
    this.wake = proxy.linux.pipe();
  }

  void start() {
    Thread t = new Thread(null, this::acceptLoop, "egress-accept-" + session.id().substring(0, Math.min(12, session.id().length())),
        256 * 1024);
    t.setDaemon(true);
    t.start();
  }

  private void acceptLoop() {
    List<Fd> polled = List.of(listeners.http(), listeners.socks(), wake[0]);
    try {
      while (!closed) {
        boolean[] ready = proxy.linux.pollReadable(polled, -1);
        if (ready[2] || closed) {
          break;
        }
        for (int i = 0; i < 2; i++) {
          if (ready[i]) {
            acceptOne(polled.get(i));
          }
        }
      }
    } catch (NativeException | RuntimeException e) {
      log.error("session {}: the egress acceptor failed; the jail has no way out from now on", session.id(), e);
    } finally {
      listeners.close();
      synchronized (this) { // close() writes to the pipe under this lock: never to a reused number
        wake[0].close();
        wake[1].close();
      }
    }
  }

  private void acceptOne(Fd listener) throws NativeException {
    Fd client;
    try {
      client = proxy.sockets.accept(listener);
    } catch (NativeException e) {
      if (e.errno() == Errno.EAGAIN || e.errno() == Errno.ECONNRESET || e.rawErrno() == 103 /* ECONNABORTED */) {
        return;
      }
      if (e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE || e.errno() == Errno.ENOBUFS || e.errno() == Errno.ENOMEM) {
        log.warn("session {}: cannot accept an egress connection now: {}", session.id(), e.getMessage());
        sleepQuietly();
        return;
      }
      throw e;
    }
    ProxiedConnection c = new ProxiedConnection(this, client);
    connections.add(c);
    if (closed) {
      c.abort();
    }
    try {
      proxy.workers.execute(() -> {
        try {
          c.run();
        } finally {
          connections.remove(c);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      connections.remove(c);
      client.close();
    }
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops accepting and cuts every open connection. */
  void close() {
    closed = true;
    synchronized (this) {
      if (wake[1].isOpen()) {
        try {
          proxy.linux.write(wake[1], new byte[] {1}, 0, 1);
        } catch (NativeException e) {
          log.warn("session {}: could not wake the egress acceptor: {}", session.id(), e.getMessage());
        }
      }
    }
    connections.forEach(ProxiedConnection::abort);
  }
}
