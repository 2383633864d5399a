package dev.paddock.client;

import io.grpc.Channel;
import io.grpc.stub.AbstractBlockingStub;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What every service's calls share: the connection, the deadline of a unary call (null = none),
 * and the service's blocking stub.
 *
 * @param <S> the service's blocking stub
 */
abstract class ServiceCalls<S extends AbstractBlockingStub<S>> {
  final Connection connection;
  final Duration deadline;
  private final Function<Channel, S> stubs;

  ServiceCalls(Connection connection, Duration deadline, Function<Channel, S> stubs) {
    this.connection = connection;
    this.deadline = deadline;
    this.stubs = stubs;
  }

  /** The stub for one unary call, with the deadline. */
  S unary() {
    S stub = stubs.apply(connection.channel());
    return deadline == null ? stub : stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The stub for a server stream: no deadline (a stream lasts as long as its work). */
  S streams() {
    return stubs.apply(connection.channel());
  }
}
