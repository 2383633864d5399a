package dev.paddock.runtime.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A connection to the host for one client command (the client library's, {@link
 * dev.paddock.client.Paddock}), its calls and its {@link Output}. Unary calls get a deadline of
 * {@value #UNARY_DEADLINE_SECONDS} s; streaming calls (exec output, uploads, downloads, stdin) have
 * none, since they last as long as the work does. Failures are {@link
 * dev.paddock.client.PaddockException}s.
 */
final class Client implements AutoCloseable {
  /** Deadline of each unary call, in seconds. */
  static final long UNARY_DEADLINE_SECONDS = 30;

  private final dev.paddock.client.Paddock paddock;
  private final Output out;

  Client(dev.paddock.client.Paddock paddock, Output out) {
    this.paddock = paddock;
    this.out = out;
  }

  /** The client library's connection, for commands written against it. */
  dev.paddock.client.Paddock paddock() {
    return paddock;
  }

  Output out() {
    return out;
  }

  /** SessionService calls, unary ones with a deadline of {@value #UNARY_DEADLINE_SECONDS} s. */
  dev.paddock.client.SessionCalls sessions() {
    return paddock.calls().sessions().withDeadline(java.time.Duration.ofSeconds(UNARY_DEADLINE_SECONDS));
  }

  /** ExecService, for one unary call (StartExec, SignalExec, GetExec, ListExecs). */
  dev.paddock.client.ExecCalls execs() {
    return paddock.calls().execs().withDeadline(java.time.Duration.ofSeconds(UNARY_DEADLINE_SECONDS));
  }

  /** ExecService without a deadline: Exec, AttachExec, and WriteStdin (which waits while the process does not read). */
  dev.paddock.client.ExecCalls execStreams() {
    return paddock.calls().execs().withDeadline(null);
  }

  /** AuditService: checkpoint and proofs with a deadline, StreamAuditRecords without. */
  dev.paddock.client.AuditCalls audit() {
    return paddock.calls().audit().withDeadline(java.time.Duration.ofSeconds(UNARY_DEADLINE_SECONDS));
  }

  /** SecretService, for one unary call. */
  dev.paddock.client.SecretCalls secrets() {
    return paddock.calls().secrets().withDeadline(java.time.Duration.ofSeconds(UNARY_DEADLINE_SECONDS));
  }

  /** BrowserService, for one call (a navigation waits up to its own timeout, at most 5 minutes). */
  dev.paddock.client.BrowserCalls browsers() {
    return paddock.calls().browsers().withDeadline(java.time.Duration.ofMinutes(6));
  }

  /** TenantService, for one unary call. */
  dev.paddock.client.TenantCalls tenants() {
    return paddock.calls().tenants().withDeadline(java.time.Duration.ofSeconds(UNARY_DEADLINE_SECONDS));
  }

  /** FileService: unary calls with a deadline; DownloadFile and UploadFile without (they last as long as their bytes). */
  dev.paddock.client.FileCalls files() {
    return paddock.calls().files().withDeadline(java.time.Duration.ofSeconds(UNARY_DEADLINE_SECONDS));
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
