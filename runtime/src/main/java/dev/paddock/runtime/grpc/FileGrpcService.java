package dev.paddock.runtime.grpc;

import com.google.protobuf.ByteString;
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
import dev.paddock.runtime.errors.PaddockException;
import dev.paddock.runtime.session.WorkspaceService;
import dev.paddock.runtime.tenant.Principal;
import dev.paddock.sandbox.fs.FileStat;
import dev.paddock.sandbox.fs.WorkspaceInputStream;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FileService, a thin adapter over {@link WorkspaceService}. UploadFile writes each message as it
 * arrives (the transport asks for the next message only after the previous one was written, so a
 * fast client cannot make the host buffer); DownloadFile sends 64 KiB chunks only while the
 * transport is ready, so a slow reader never makes the host hold more than one chunk of a file.
 * WatchDirectory answers UNIMPLEMENTED.
 */
final class FileGrpcService extends FileServiceGrpc.FileServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(FileGrpcService.class);
  /** Most bytes in one UploadFileRequest.data. */
  static final int MAX_UPLOAD_CHUNK_BYTES = 1024 * 1024;
  /** Bytes in each DownloadFileResponse.data (the last one of a file may be shorter). */
  static final int DOWNLOAD_CHUNK_BYTES = 64 * 1024;

  private final WorkspaceService files;

  FileGrpcService(WorkspaceService files) {
    this.files = files;
  }

  @Override
  public StreamObserver<UploadFileRequest> uploadFile(StreamObserver<UploadFileResponse> out) {
    return new UploadReceiver(AuthInterceptor.current(), RequestIds.current(), out);
  }

  /** Receives one upload: the header starts it, data messages append, the half-close commits. */
  private final class UploadReceiver implements StreamObserver<UploadFileRequest> {
    private final Principal caller;
    private final String requestId;
    private final StreamObserver<UploadFileResponse> out;
    private byte[] buffer = new byte[0];
    private WorkspaceService.PendingUpload upload;
    private boolean ended;

    UploadReceiver(Principal caller, String requestId, StreamObserver<UploadFileResponse> out) {
      this.caller = caller;
      this.requestId = requestId;
      this.out = out;
    }

    @Override
    public void onNext(UploadFileRequest req) {
      if (ended) {
        return; // already answered with an error; the rest of the stream is dropped
      }
      try {
        switch (req.getPartCase()) {
          case HEADER -> {
            if (upload != null) {
              throw new PaddockException.InvalidArgument("header", "must be sent once, in the first message only");
            }
            UploadFileHeader h = req.getHeader();
            upload = files.beginUpload(caller, new WorkspaceService.UploadSpec(h.getSessionId(), h.getPath(),
                h.getMode(), h.getOverwrite(), h.getMakeParents(), h.getSizeBytes()));
          }
          case DATA -> {
            if (upload == null) {
              throw new PaddockException.InvalidArgument("header", "the first message must carry the header");
            }
            ByteString data = req.getData();
            if (data.size() > MAX_UPLOAD_CHUNK_BYTES) {
              throw PaddockException.InvalidArgument.tooLarge("data", MAX_UPLOAD_CHUNK_BYTES,
                  "at most " + MAX_UPLOAD_CHUNK_BYTES + " bytes per message");
            }
            if (buffer.length < data.size()) {
              buffer = new byte[Math.max(data.size(), Math.min(2 * buffer.length, MAX_UPLOAD_CHUNK_BYTES))];
            }
            data.copyTo(buffer, 0);
            upload.write(buffer, 0, data.size());
          }
          default -> throw new PaddockException.InvalidArgument(upload == null ? "header" : "data",
              "every message must carry the header (first) or data");
        }
      } catch (RuntimeException e) {
        fail(e);
      }
    }

    @Override
    public void onError(Throwable t) {
      // Cancelled by the client, or the connection broke: nothing of the upload may remain.
      ended = true;
      if (upload != null) {
        upload.abort();
      }
    }

    @Override
    public void onCompleted() {
      if (ended) {
        return;
      }
      if (upload == null) {
        fail(new PaddockException.InvalidArgument("header", "the stream ended without a header"));
        return;
      }
      FileStat written;
      try {
        written = upload.commit();
      } catch (RuntimeException e) {
        fail(e);
        return;
      }
      ended = true;
      out.onNext(UploadFileResponse.newBuilder().setFile(FileProtos.toProto(written)).build());
      out.onCompleted();
    }

    private void fail(RuntimeException e) {
      ended = true;
      if (upload != null) {
        upload.abort();
      }
      out.onError(ErrorMapper.toStatusException(e, requestId));
    }
  }

  @Override
  public void downloadFile(DownloadFileRequest req, StreamObserver<DownloadFileResponse> responseObserver) {
    ServerCallStreamObserver<DownloadFileResponse> call = (ServerCallStreamObserver<DownloadFileResponse>) responseObserver;
    String requestId = RequestIds.current();
    // uint64 fields: an offset beyond 2^63 - 1 is past the end of any file, a length that large is "to the end".
    boolean pastAnyEnd = req.getOffset() < 0;
    long length = pastAnyEnd ? -1 : req.getLength() < 0 ? 0 : req.getLength();
    WorkspaceInputStream in;
    try {
      in = files.openRead(AuthInterceptor.current(), req.getSessionId(), req.getPath(),
          pastAnyEnd ? 0 : req.getOffset(), pastAnyEnd ? 1 : length);
    } catch (RuntimeException e) {
      call.onError(ErrorMapper.toStatusException(e, requestId));
      return;
    }
    Sender sender = new Sender(call, in, req.getOffset(), pastAnyEnd, requestId);
    call.setOnCancelHandler(sender::cancel);
    call.setOnReadyHandler(sender::send);
  }

  /**
   * Streams one opened file. Runs only in the call's onReady callbacks (gRPC invokes the first
   * one when the call starts), reading the next chunk only while the transport can take it.
   */
  private static final class Sender {
    private final ServerCallStreamObserver<DownloadFileResponse> call;
    private final WorkspaceInputStream in;
    private final String requestId;
    private final boolean nothingToRead;
    private final byte[] buffer = new byte[DOWNLOAD_CHUNK_BYTES];
    private long offset;
    private boolean first = true;
    private boolean done;

    Sender(ServerCallStreamObserver<DownloadFileResponse> call, WorkspaceInputStream in, long offset,
        boolean nothingToRead, String requestId) {
      this.call = call;
      this.in = in;
      this.offset = offset;
      this.nothingToRead = nothingToRead;
      this.requestId = requestId;
    }

    synchronized void send() {
      try {
        while (!done && call.isReady()) {
          int n = nothingToRead ? -1 : fill();
          if (n <= 0 && !first) {
            finish();
            call.onCompleted();
            return;
          }
          DownloadFileResponse.Builder chunk = DownloadFileResponse.newBuilder().setOffset(offset);
          if (first) {
            chunk.setFile(FileProtos.toProto(in.stat()));
            first = false;
          }
          if (n > 0) {
            chunk.setData(ByteString.copyFrom(buffer, 0, n));
            offset += n;
          }
          call.onNext(chunk.build());
          if (n < buffer.length) { // a short chunk: the end, or the range's end
            finish();
            call.onCompleted();
            return;
          }
        }
      } catch (IOException e) {
        finish();
        call.onError(ErrorMapper.toStatusException(new PaddockException.Internal(
            "reading the file failed; quote request id " + requestId + " to the operator", e), requestId));
      } catch (RuntimeException e) {
        // The call was cancelled or closed under us: nothing more to send.
        log.debug("request {}: download ended early", requestId, e);
        finish();
      }
    }

    synchronized void cancel() {
      finish();
    }

    /** Reads up to a whole chunk; fewer bytes only at the end of the file or range; -1 at once at the end. */
    private int fill() throws IOException {
      int filled = 0;
      while (filled < buffer.length) {
        int n = in.read(buffer, filled, buffer.length - filled);
        if (n < 0) {
          return filled == 0 ? -1 : filled;
        }
        filled += n;
      }
      return filled;
    }

    private void finish() {
      done = true;
      in.close();
    }
  }

  @Override
  public void listFiles(ListFilesRequest req, StreamObserver<ListFilesResponse> out) {
    SessionGrpcService.unary(out, () -> {
      WorkspaceService.FilePage page = files.list(AuthInterceptor.current(), req.getSessionId(), req.getPath(),
          req.getRecursive(), FileProtos.unsigned(req.getDepth()), FileProtos.unsigned(req.getPageSize()),
          req.getPageToken());
      ListFilesResponse.Builder b = ListFilesResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.files().forEach(f -> b.addFiles(FileProtos.toProto(f)));
      return b.build();
    });
  }

  @Override
  public void statFile(StatFileRequest req, StreamObserver<StatFileResponse> out) {
    SessionGrpcService.unary(out, () -> {
      Optional<FileStat> stat = files.stat(AuthInterceptor.current(), req.getSessionId(), req.getPath());
      StatFileResponse.Builder b = StatFileResponse.newBuilder().setExists(stat.isPresent());
      stat.ifPresent(s -> b.setFile(FileProtos.toProto(s)));
      return b.build();
    });
  }

  @Override
  public void removeFile(RemoveFileRequest req, StreamObserver<RemoveFileResponse> out) {
    SessionGrpcService.unary(out, () -> {
      files.remove(AuthInterceptor.current(), req.getSessionId(), req.getPath(), req.getRecursive());
      return RemoveFileResponse.getDefaultInstance();
    });
  }

  @Override
  public void makeDirectory(MakeDirectoryRequest req, StreamObserver<MakeDirectoryResponse> out) {
    SessionGrpcService.unary(out, () -> {
      WorkspaceService.MadeDirectory made = files.makeDirectory(AuthInterceptor.current(), req.getSessionId(),
          req.getPath(), req.getMode(), req.getParents());
      return MakeDirectoryResponse.newBuilder()
          .setDirectory(FileProtos.toProto(made.directory())).setCreated(made.created()).build();
    });
  }

  @Override
  public void renameFile(RenameFileRequest req, StreamObserver<RenameFileResponse> out) {
    SessionGrpcService.unary(out, () -> RenameFileResponse.newBuilder()
        .setFile(FileProtos.toProto(files.rename(AuthInterceptor.current(), req.getSessionId(), req.getFromPath(),
            req.getToPath(), req.getOverwrite())))
        .build());
  }

  @Override
  public void changeFileMode(ChangeFileModeRequest req, StreamObserver<ChangeFileModeResponse> out) {
    SessionGrpcService.unary(out, () -> ChangeFileModeResponse.newBuilder()
        .setFile(FileProtos.toProto(files.chmod(AuthInterceptor.current(), req.getSessionId(), req.getPath(),
            req.getMode())))
        .build());
  }

  @Override
  public void watchDirectory(WatchDirectoryRequest req, StreamObserver<FileEvent> out) {
    SessionGrpcService.unimplemented(out, "WatchDirectory");
  }
}
