package dev.paddock.client;

import dev.paddock.ipc.v1.ChangeFileModeRequest;
import dev.paddock.ipc.v1.ChangeFileModeResponse;
import dev.paddock.ipc.v1.DownloadFileRequest;
import dev.paddock.ipc.v1.DownloadFileResponse;
import dev.paddock.ipc.v1.FileEvent;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.ListFilesRequest;
import dev.paddock.ipc.v1.ListFilesResponse;
import dev.paddock.ipc.v1.MakeDirectoryRequest;
import dev.paddock.ipc.v1.MakeDirectoryResponse;
import dev.paddock.ipc.v1.RemoveFileRequest;
import dev.paddock.ipc.v1.RemoveFileResponse;
import dev.paddock.ipc.v1.RenameFileRequest;
import dev.paddock.ipc.v1.RenameFileResponse;
import dev.paddock.ipc.v1.StatFileRequest;
import dev.paddock.ipc.v1.StatFileResponse;
import dev.paddock.ipc.v1.UploadFileHeader;
import dev.paddock.ipc.v1.UploadFileRequest;
import dev.paddock.ipc.v1.UploadFileResponse;
import dev.paddock.ipc.v1.WatchDirectoryRequest;
import java.time.Duration;

/**
 * FileService: a session's workspace. One method per call, taking and answering the API's own messages (see
 * paddock.v1), with the client's deadline, retries and typed exceptions: for callers that want
 * every field (the CLI). {@link dev.paddock.client.Session} and its companions cover the everyday calls.
 */
public final class FileCalls extends ServiceCalls<FileServiceGrpc.FileServiceBlockingStub> {
  FileCalls(Connection connection) {
    this(connection, connection.deadline());
  }

  private FileCalls(Connection connection, Duration deadline) {
    super(connection, deadline, FileServiceGrpc::newBlockingStub);
  }

  /** These calls with another deadline for each unary call; null = none (a call that waits as long as its work). */
  public FileCalls withDeadline(Duration deadline) {
    return new FileCalls(connection, deadline);
  }

  /** FileService.DownloadFile: its messages as a {@link Stream} (close it to cancel); no deadline unless {@link #withDeadline}. */
  public Stream<DownloadFileResponse> downloadFile(DownloadFileRequest request) {
    return Stream.open(() -> streams().downloadFile(request));
  }

  /** FileService.ListFiles. */
  public ListFilesResponse listFiles(ListFilesRequest request) {
    return connection.call(() -> unary().listFiles(request));
  }

  /** FileService.StatFile. */
  public StatFileResponse statFile(StatFileRequest request) {
    return connection.call(() -> unary().statFile(request));
  }

  /** FileService.RemoveFile. */
  public RemoveFileResponse removeFile(RemoveFileRequest request) {
    return connection.call(() -> unary().removeFile(request));
  }

  /** FileService.MakeDirectory. */
  public MakeDirectoryResponse makeDirectory(MakeDirectoryRequest request) {
    return connection.call(() -> unary().makeDirectory(request));
  }

  /** FileService.RenameFile. */
  public RenameFileResponse renameFile(RenameFileRequest request) {
    return connection.call(() -> unary().renameFile(request));
  }

  /** FileService.ChangeFileMode. */
  public ChangeFileModeResponse changeFileMode(ChangeFileModeRequest request) {
    return connection.call(() -> unary().changeFileMode(request));
  }

  /** FileService.WatchDirectory: its messages as a {@link Stream} (close it to cancel); no deadline unless {@link #withDeadline}. */
  public Stream<FileEvent> watchDirectory(WatchDirectoryRequest request) {
    return Stream.open(() -> streams().watchDirectory(request));
  }

  /**
   * FileService.UploadFile: {@code header}, then what {@code in} holds in messages of at most
   * {@value #UPLOAD_CHUNK_BYTES} bytes, each sent only when the transport is ready for more (a large
   * file is never buffered whole); the written file. Stops early when the host has answered (an
   * error). No deadline: an upload lasts as long as its bytes take.
   */
  public UploadFileResponse upload(UploadFileHeader header, java.io.InputStream in) throws java.io.IOException {
    java.util.concurrent.CompletableFuture<UploadFileResponse> done = new java.util.concurrent.CompletableFuture<>();
    Object ready = new Object();
    io.grpc.stub.ClientResponseObserver<UploadFileRequest, UploadFileResponse> observer = new io.grpc.stub.ClientResponseObserver<>() {
      private UploadFileResponse response;

      @Override
      public void beforeStart(io.grpc.stub.ClientCallStreamObserver<UploadFileRequest> call) {
        call.setOnReadyHandler(() -> wake(ready));
      }

      @Override
      public void onNext(UploadFileResponse value) {
        response = value;
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
        wake(ready);
      }

      @Override
      public void onCompleted() {
        done.complete(response);
        wake(ready);
      }
    };
    var call = (io.grpc.stub.ClientCallStreamObserver<UploadFileRequest>) FileServiceGrpc.newStub(connection.channel())
        .uploadFile(observer);
    try {
      call.onNext(UploadFileRequest.newBuilder().setHeader(header).build());
      byte[] buffer = new byte[UPLOAD_CHUNK_BYTES];
      while (!done.isDone()) {
        int n = in.readNBytes(buffer, 0, buffer.length);
        if (n == 0) {
          break;
        }
        synchronized (ready) {
          while (!call.isReady() && !done.isDone()) {
            ready.wait(1000);
          }
        }
        if (done.isDone()) {
          break;
        }
        call.onNext(UploadFileRequest.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(buffer, 0, n)).build());
        if (n < buffer.length) {
          break;
        }
      }
      if (!done.isDone()) {
        call.onCompleted();
      }
      return done.get();
    } catch (InterruptedException e) {
      call.cancel("interrupted", e);
      Thread.currentThread().interrupt();
      throw new CancelledException(io.grpc.Status.Code.CANCELLED, "interrupted", "CANCELLED", "", java.util.Map.of(), null, e);
    } catch (java.io.IOException | RuntimeException e) {
      call.cancel("upload failed on the client", e);
      throw e;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof io.grpc.StatusRuntimeException s) {
        throw PaddockException.from(s);
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static void wake(Object monitor) {
    synchronized (monitor) {
      monitor.notifyAll();
    }
  }

  /** Bytes of file data per upload message. */
  static final int UPLOAD_CHUNK_BYTES = 1024 * 1024;
}
