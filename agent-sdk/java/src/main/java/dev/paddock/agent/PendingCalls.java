package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.Envelope;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The calls waiting for their replies, and which of their threads reads the channel.
 *
 * <p>Leader/follower: there is no reader thread. A caller that has sent its request and finds
 * nobody reading becomes the reader ({@link #awaitTurn} returns true); it reads frames, completing
 * whichever calls they answer ({@link #complete}), until its own reply has come, then steps down
 * ({@link #leaveReader}) and wakes one waiting caller to take over. The others sleep on their own
 * condition until their reply is handed to them or they are promoted. A lone caller thus sends and
 * reads its reply on its own thread, with no hand-off between threads.
 *
 * <p>The same lock tracks when the descriptor may be closed: only once the channel is closed or
 * broken, nobody reads and no call is outstanding, so that a read(2) or write(2) can never land on
 * a descriptor number the process has reused for something else.
 */
final class PendingCalls {
  /** One outstanding request. Its fields are written under the lock; {@code done} is also read without it. */
  static final class Call {
    private final Condition wake;
    private volatile boolean done;
    /** True while its thread sleeps in {@link PendingCalls#awaitTurn}. */
    private boolean waiting;
    private Envelope reply;
    private ChannelClosedException failure;

    private Call(Condition wake) {
      this.wake = wake;
    }

    /** True once the reply or the failure is in. */
    boolean isDone() {
      return done;
    }

    /**
     * The reply; call only once {@link #isDone()} (after {@link PendingCalls#awaitTurn}).
     *
     * @throws ChannelClosedException (a fresh one, with this thread's stack) if the channel broke
     */
    Envelope reply() {
      if (failure != null) {
        throw new ChannelClosedException(failure.getMessage(), failure.getCause());
      }
      return reply;
    }
  }

  private final ReentrantLock lock = new ReentrantLock();
  private final Map<Long, Call> calls = new HashMap<>();
  private boolean readerActive;
  private boolean closed;
  private ChannelClosedException broken;
  private boolean released;

  /**
   * Registers a call before its request is sent (so that a fast reply finds it).
   *
   * @throws ChannelClosedException if the channel is closed or broken
   */
  Call register(long id) {
    lock.lock();
    try {
      if (broken != null) {
        throw new ChannelClosedException(broken.getMessage(), broken.getCause());
      }
      if (closed) {
        throw new ChannelClosedException("the agent was closed", null);
      }
      Call call = new Call(lock.newCondition());
      calls.put(id, call);
      return call;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the call is done or this thread is to read. Not interruptible: the request is out
   * and its reply will come; the thread's interrupt status is kept.
   *
   * @return true if the caller is now the reader and must call {@link #leaveReader()} when done
   *     reading; false if the call is done
   */
  boolean awaitTurn(Call call) {
    lock.lock();
    try {
      while (!call.done) {
        if (!readerActive) {
          readerActive = true;
          return true;
        }
        call.waiting = true;
        call.wake.awaitUninterruptibly();
        call.waiting = false;
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  /** Hands a reply to its call and wakes its thread. A reply to no outstanding call is dropped. */
  void complete(Envelope reply) {
    lock.lock();
    try {
      Call call = calls.remove(reply.getId());
      if (call != null) {
        call.reply = reply;
        call.done = true;
        call.wake.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Breaks the channel: every outstanding call fails with {@code cause}, and so does every later
   * {@link #register}. Only the first cause counts.
   *
   * @return true if the caller must now close the descriptor
   */
  boolean fail(ChannelClosedException cause) {
    lock.lock();
    try {
      if (broken == null) {
        broken = cause;
      }
      for (Iterator<Call> it = calls.values().iterator(); it.hasNext(); ) {
        Call call = it.next();
        it.remove();
        call.failure = broken;
        call.done = true;
        call.wake.signal();
      }
      return takeRelease();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The reader steps down and wakes one sleeping caller to take over. Only a sleeping one: a
   * caller still sending (perhaps blocked because the host holds back while its replies wait to be
   * read) would miss the signal, and nobody would read those replies. A caller that is not asleep
   * yet finds no reader when it gets to {@link #awaitTurn} and takes over then.
   *
   * @return true if the caller must now close the descriptor
   */
  boolean leaveReader() {
    lock.lock();
    try {
      readerActive = false;
      for (Call call : calls.values()) {
        if (call.waiting) {
          call.wake.signal();
          break;
        }
      }
      return takeRelease();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses new calls; outstanding ones still get their replies.
   *
   * @return true if the caller must now close the descriptor (nothing is outstanding)
   */
  boolean close() {
    lock.lock();
    try {
      closed = true;
      return takeRelease();
    } finally {
      lock.unlock();
    }
  }

  /** True once, when the descriptor may be closed: closed or broken, idle, not yet released. */
  private boolean takeRelease() {
    if ((closed || broken != null) && !readerActive && calls.isEmpty() && !released) {
      released = true;
      return true;
    }
    return false;
  }
}
