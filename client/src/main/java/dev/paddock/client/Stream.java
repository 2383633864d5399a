package dev.paddock.client;

import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Supplier;

/**
 * The messages of a server stream, read as a blocking iterator; {@link #close()} cancels the call
 * (use try-with-resources when not reading to the end). A failure of the call surfaces from
 * {@link #hasNext()} or {@link #next()} as a {@link PaddockException}. One reader at a time.
 *
 * @param <T> the message type
 */
public final class Stream<T> implements Iterator<T>, Iterable<T>, AutoCloseable {
  private final Context.CancellableContext context;
  private final Iterator<T> messages;

  private Stream(Context.CancellableContext context, Iterator<T> messages) {
    this.context = context;
    this.messages = messages;
  }

  /** Starts the call {@code start} makes, inside a context that {@link #close()} cancels. */
  static <T> Stream<T> open(Supplier<Iterator<T>> start) {
    Context.CancellableContext context = Context.current().withCancellation();
    try {
      return new Stream<>(context, context.call(start::get));
    } catch (StatusRuntimeException e) {
      context.cancel(null);
      throw PaddockException.from(e);
    } catch (RuntimeException e) {
      context.cancel(null);
      throw e;
    } catch (Exception e) {
      context.cancel(null);
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean hasNext() {
    try {
      return messages.hasNext();
    } catch (StatusRuntimeException e) {
      throw PaddockException.from(e);
    }
  }

  @Override
  public T next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    try {
      return messages.next();
    } catch (StatusRuntimeException e) {
      throw PaddockException.from(e);
    }
  }

  /** This stream, for a for-each loop (once). */
  @Override
  public Iterator<T> iterator() {
    return this;
  }

  /** Cancels the call if it is still running. */
  @Override
  public void close() {
    context.cancel(null);
  }
}
