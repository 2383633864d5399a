package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.ExecServiceGrpc;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.SessionServiceGrpc;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A connection to the host for one client command, with its stubs and its {@link Output}. Unary
 * calls get a deadline of {@value #UNARY_DEADLINE_SECONDS} s; streaming calls (exec output,
 * uploads, downloads, stdin) have none, since they last as long as the work does.
 */
final class Client implements AutoCloseable {
  /** Deadline of each unary call, in seconds. */
  static final long UNARY_DEADLINE_SECONDS = 30;

  private final dev.paddock.client.Paddock paddock;
  private final ManagedChannel channel;
  private final Output out;

  Client(dev.paddock.client.Paddock paddock, Output out) {
    this.paddock = paddock;
    this.channel = paddock.channel();
    this.out = out;
  }

  /** The client library's connection, for commands written against it. */
  dev.paddock.client.Paddock paddock() {
    return paddock;
  }

  Output out() {
    return out;
  }

  /** SessionService, for one unary call. */
  SessionServiceGrpc.SessionServiceBlockingStub sessions() {
    return SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** ExecService, for one unary call (StartExec, SignalExec, GetExec, ListExecs). */
  ExecServiceGrpc.ExecServiceBlockingStub execs() {
    return ExecServiceGrpc.newBlockingStub(channel).withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** ExecService without a deadline: Exec, AttachExec, and WriteStdin (which waits while the process does not read). */
  ExecServiceGrpc.ExecServiceBlockingStub execStreams() {
    return ExecServiceGrpc.newBlockingStub(channel);
  }

  /** AuditService, for one unary call (checkpoint, proofs). */
  dev.paddock.ipc.v1.AuditServiceGrpc.AuditServiceBlockingStub audit() {
    return dev.paddock.ipc.v1.AuditServiceGrpc.newBlockingStub(channel).withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** SecretService, for one unary call. */
  dev.paddock.ipc.v1.SecretServiceGrpc.SecretServiceBlockingStub secrets() {
    return dev.paddock.ipc.v1.SecretServiceGrpc.newBlockingStub(channel).withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** AuditService without a deadline, for StreamAuditRecords. */
  dev.paddock.ipc.v1.AuditServiceGrpc.AuditServiceBlockingStub auditStreams() {
    return dev.paddock.ipc.v1.AuditServiceGrpc.newBlockingStub(channel);
  }

  /** BrowserService, for one call (a navigation waits up to its own timeout, at most 5 minutes). */
  dev.paddock.ipc.v1.BrowserServiceGrpc.BrowserServiceBlockingStub browsers() {
    return dev.paddock.ipc.v1.BrowserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(6, TimeUnit.MINUTES);
  }

  /** TenantService, for one unary call. */
  dev.paddock.ipc.v1.TenantServiceGrpc.TenantServiceBlockingStub tenants() {
    return dev.paddock.ipc.v1.TenantServiceGrpc.newBlockingStub(channel).withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  FileServiceGrpc.FileServiceBlockingStub files() {
    return FileServiceGrpc.newBlockingStub(channel).withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** FileService without a deadline, for DownloadFile. */
  FileServiceGrpc.FileServiceBlockingStub fileStreams() {
    return FileServiceGrpc.newBlockingStub(channel);
  }

  /** FileService's asynchronous stub without a deadline, for UploadFile. */
  FileServiceGrpc.FileServiceStub filesAsync() {
    return FileServiceGrpc.newStub(channel);
  }

  /**
   * Reads every page of a List call: {@code list} gets the page token ("" first), {@code eachPage}
   * every response, until the next token is "". A host that hands back the token it was given
   * would loop forever, so that ends the listing too.
   */
  static <R> void allPages(Function<String, R> list, Function<R, String> nextToken, Consumer<R> eachPage) {
    String token = "";
    while (true) {
      R page = list.apply(token);
      eachPage.accept(page);
      String next = nextToken.apply(page);
      if (next.isEmpty() || next.equals(token)) {
        return;
      }
      token = next;
    }
  }

  /** A local I/O failure in a few words ("no such file: x"), for {@code error: …}. */
  static String describe(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file: " + e.getMessage();
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied: " + e.getMessage();
    }
    if (e instanceof FileAlreadyExistsException) {
      return "already exists: " + e.getMessage();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  @Override
  public void close() {
    paddock.close();
  }
}
