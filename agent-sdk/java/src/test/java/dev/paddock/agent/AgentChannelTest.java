package dev.paddock.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.ipc.agent.v1.IpcErrorReason;
import dev.paddock.ipc.agent.v1.PingReply;
import dev.paddock.ipc.agent.v1.ProgressReply;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Errors, pipelining, limits and the end of the channel. */
class AgentChannelTest {
  private static Envelope.Builder pong() {
    return Envelope.newBuilder().setPong(PingReply.getDefaultInstance());
  }

  static Stream<Arguments> reasons() {
    return Stream.of(
        Arguments.of(IpcErrorReason.IPC_ERROR_INVALID_ARGUMENT, InvalidArgumentException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_PERMISSION_DENIED, PermissionDeniedException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_NOT_FOUND, NotFoundException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_ALREADY_EXISTS, AlreadyExistsException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_PAYLOAD_TOO_LARGE, PayloadTooLargeException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_RESOURCE_EXHAUSTED, ResourceExhaustedException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_RATE_LIMITED, RateLimitedException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_WORKSPACE_FULL, WorkspaceFullException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_NOT_AVAILABLE, NotAvailableException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_UNKNOWN_REQUEST, UnknownRequestException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_FAILED_PRECONDITION, FailedPreconditionException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_INTERNAL, InternalException.class),
        Arguments.of(IpcErrorReason.IPC_ERROR_DEADLINE_EXCEEDED, DeadlineExceededException.class));
  }

  @Test
  void everyReasonHasACase() {
    // A reason added to ipc.proto must get its exception (and a line in reasons()).
    assertThat(reasons()).hasSize(IpcErrorReason.values().length - 2); // minus UNSPECIFIED, UNRECOGNIZED
  }

  @ParameterizedTest
  @MethodSource("reasons")
  void errorReasonBecomesItsException(IpcErrorReason reason, Class<? extends AgentException> type)
      throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder().setError(dev.paddock.ipc.agent.v1.Error.newBuilder()
        .setReason(reason)
        .setMessage("no: " + reason)
        .putMetadata("path", "a/b")
        .putMetadata("limitBytes", "10")))) {
      assertThatThrownBy(() -> host.agent().readFile("a/b"))
          .isExactlyInstanceOf(type)
          .hasMessage("no: " + reason)
          .satisfies(e -> {
            AgentException agentException = (AgentException) e;
            assertThat(agentException.reason()).isEqualTo(reason);
            assertThat(agentException.metadata()).isEqualTo(Map.of("path", "a/b", "limitBytes", "10"));
          });
      host.agent().close();
    }
  }

  @Test
  void unknownReasonIsAPlainAgentException() throws Exception {
    try (FakeHost host = new FakeHost(r -> Envelope.newBuilder().setError(dev.paddock.ipc.agent.v1.Error.newBuilder()
        .setReasonValue(77)
        .setMessage("newer host")))) {
      assertThatThrownBy(() -> host.agent().ping())
          .isExactlyInstanceOf(AgentException.class)
          .hasMessage("newer host")
          .extracting(e -> ((AgentException) e).reason())
          .isEqualTo(IpcErrorReason.IPC_ERROR_UNSPECIFIED);
    }
  }

  @Test
  void wrongReplyTypeFailsOnlyThatCall() throws Exception {
    try (FakeHost host = new FakeHost(r -> r.getBodyCase() == Envelope.BodyCase.PING
        ? pong()
        : Envelope.newBuilder().setPong(PingReply.getDefaultInstance()))) {
      assertThatThrownBy(() -> host.agent().progress("x"))
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("PONG")
          .hasMessageContaining("PROGRESS_RECORDED");
      host.agent().ping();
    }
  }

  @Test
  void pipelinedCallsFromManyThreadsAnsweredInReverse() throws Exception {
    int threads = 8;
    try (FakeHost host = new FakeHost()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Long>> results = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          String message = "call " + i;
          results.add(pool.submit(() -> host.agent().progress(message)));
        }
        List<Envelope> requests = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          requests.add(host.take());
        }
        assertThat(requests).extracting(Envelope::getId).doesNotHaveDuplicates();
        Collections.reverse(requests);
        for (Envelope request : requests) {
          // Each answer encodes its request's message, so a mix-up shows.
          long sequence = Long.parseLong(request.getProgress().getMessage().substring(5));
          host.reply(Envelope.newBuilder().setId(request.getId())
              .setProgressRecorded(ProgressReply.newBuilder().setSequence(100 + sequence)).build());
        }
        for (int i = 0; i < threads; i++) {
          assertThat(results.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(100 + i);
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void manyThreadsWithRepliesShuffledInBatches() throws Exception {
    int threads = 12;
    int callsPerThread = 300;
    try (FakeHost host = new FakeHost()) {
      Thread answerer = new Thread(() -> {
        Random random = new Random(42);
        List<Envelope> batch = new ArrayList<>();
        try {
          for (int answered = 0; answered < threads * callsPerThread; ) {
            Envelope first = host.take();
            batch.add(first);
            host.requests().drainTo(batch, random.nextInt(threads));
            Collections.shuffle(batch, random);
            for (Envelope request : batch) {
              host.reply(Envelope.newBuilder().setId(request.getId())
                  .setProgressRecorded(ProgressReply.newBuilder()
                      .setSequence(Long.parseLong(request.getProgress().getMessage())))
                  .build());
            }
            answered += batch.size();
            batch.clear();
          }
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      answerer.setDaemon(true);
      answerer.start();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          done.add(pool.submit(() -> {
            for (int i = 0; i < callsPerThread; i++) {
              long expected = thread * 1_000_000L + i;
              assertThat(host.agent().progress(Long.toString(expected))).isEqualTo(expected);
            }
            return null;
          }));
        }
        for (Future<?> future : done) {
          future.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      answerer.join(10_000);
      assertThat(answerer.isAlive()).isFalse();
    }
  }

  @Test
  void overLimitFrameIsRefusedAndNothingIsSent() throws Exception {
    try (FakeHost host = new FakeHost(64, r -> pong())) {
      assertThat(host.agent().maxFrameBytes()).isEqualTo(64);
      assertThatThrownBy(() -> host.agent().writeFile("big.bin", new byte[100]))
          .isInstanceOfSatisfying(PayloadTooLargeException.class, e -> {
            assertThat(e.reason()).isEqualTo(IpcErrorReason.IPC_ERROR_PAYLOAD_TOO_LARGE);
            assertThat(e.metadata()).containsEntry("field", "frame").containsEntry("limitBytes", "64");
            assertThat(Integer.parseInt(e.metadata().get("sizeBytes"))).isGreaterThan(100);
          });
      assertThat(host.requests().poll(200, TimeUnit.MILLISECONDS)).isNull();
      host.agent().ping();
      assertThat(host.take().getBodyCase()).as("the first bytes the host saw").isEqualTo(Envelope.BodyCase.PING);
    }
  }

  @Test
  void endOfStreamFailsEveryWaiterAndLaterCalls() throws Exception {
    int threads = 5;
    try (FakeHost host = new FakeHost()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          calls.add(pool.submit(() -> host.agent().ping()));
        }
        for (int i = 0; i < threads; i++) {
          host.take();
        }
        host.closeOutput();
        for (Future<?> call : calls) {
          assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS))
              .hasCauseInstanceOf(ChannelClosedException.class)
              .cause()
              .hasMessageContaining("closed");
        }
      } finally {
        pool.shutdownNow();
      }
      assertThatThrownBy(() -> host.agent().ping()).isInstanceOf(ChannelClosedException.class);
      assertThat(host.agentClosed()).as("the agent closed its side too").isTrue();
    }
  }

  @Test
  void endOfStreamInsideAFrame() throws Exception {
    try (FakeHost host = new FakeHost()) {
      Thread hostSide = new Thread(() -> {
        try {
          host.take();
          host.writeRaw(new byte[] {0, 0, 0, 9, 0x08});
          host.closeOutput();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      hostSide.start();
      assertThatThrownBy(() -> host.agent().ping())
          .isInstanceOf(ChannelClosedException.class)
          .hasMessageContaining("middle of a frame");
      hostSide.join();
    }
  }

  @Test
  void framesTheHostMustNotSendBreakTheChannel() throws Exception {
    try (FakeHost host = new FakeHost(1024, null)) {
      Thread hostSide = new Thread(() -> {
        try {
          host.take();
          host.writeRaw(ByteBuffer.allocate(4).putInt(1025).array());
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      hostSide.start();
      assertThatThrownBy(() -> host.agent().ping())
          .isInstanceOf(ChannelClosedException.class)
          .hasCauseInstanceOf(ProtocolException.class)
          .hasMessageContaining("1025");
      hostSide.join();
      assertThatThrownBy(() -> host.agent().ping()).isInstanceOf(ChannelClosedException.class);
    }
    try (FakeHost host = new FakeHost()) {
      Thread hostSide = new Thread(() -> {
        try {
          host.take();
          host.writeRaw(new byte[] {0, 0, 0, 2, (byte) 0xff, (byte) 0xff});
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      hostSide.start();
      assertThatThrownBy(() -> host.agent().ping())
          .isInstanceOf(ChannelClosedException.class)
          .hasCauseInstanceOf(ProtocolException.class);
      hostSide.join();
    }
  }

  @Test
  void closeRefusesLaterCallsAndClosesTheStream() throws Exception {
    try (FakeHost host = new FakeHost(r -> pong())) {
      host.agent().ping();
      host.agent().close();
      host.agent().close();
      assertThatThrownBy(() -> host.agent().ping())
          .isInstanceOf(ChannelClosedException.class)
          .hasMessageContaining("closed");
      assertThat(host.agentClosed()).isTrue();
    }
  }

  @Test
  void closeWaitsForOutstandingRepliesBeforeClosingTheStream() throws Exception {
    try (FakeHost host = new FakeHost()) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      try {
        Future<?> call = pool.submit(() -> host.agent().ping());
        Envelope request = host.take();
        host.agent().close();
        assertThatThrownBy(() -> host.agent().ping()).isInstanceOf(ChannelClosedException.class);
        host.reply(pong().setId(request.getId()).build());
        call.get(10, TimeUnit.SECONDS);
        assertThat(host.agentClosed()).isTrue();
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void replyToNoOutstandingCallIsDropped() throws Exception {
    try (FakeHost host = new FakeHost()) {
      Thread hostSide = new Thread(() -> {
        try {
          Envelope request = host.take();
          host.reply(pong().setId(request.getId() + 1000).build());
          host.reply(pong().setId(request.getId()).build());
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      hostSide.start();
      host.agent().ping();
      hostSide.join();
    }
  }
}
