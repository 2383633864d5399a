package dev.paddock.client;

import dev.paddock.ipc.v1.DownloadFileRequest;
import dev.paddock.ipc.v1.DownloadFileResponse;
import dev.paddock.ipc.v1.FileInfo;
import dev.paddock.ipc.v1.ListFilesRequest;
import dev.paddock.ipc.v1.ListFilesResponse;
import dev.paddock.ipc.v1.MakeDirectoryRequest;
import dev.paddock.ipc.v1.RemoveFileRequest;
import dev.paddock.ipc.v1.StatFileRequest;
import dev.paddock.ipc.v1.UploadFileHeader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A session's workspace. Paths are relative to the workspace (or absolute inside it); a path that
 * leaves it is refused ({@link InvalidArgumentException}).
 */
public final class SessionFiles {
  private final FileCalls files;
  private final String sessionId;

  SessionFiles(FileCalls files, String sessionId) {
    this.files = files;
    this.sessionId = sessionId;
  }

  /** Writes {@code data} to {@code path} (mode 0644), replacing it; missing parent directories are made. */
  public FileInfo write(String path, byte[] data) {
    return upload(path, new java.io.ByteArrayInputStream(data), 0644);
  }

  /**
   * Copies the local file {@code local} to {@code path}, replacing it, with the local file's
   * permission bits; missing parent directories are made.
   */
  public FileInfo upload(Path local, String path) {
    try (InputStream in = Files.newInputStream(local)) {
      int mode = 0644;
      try {
        mode = (Integer) Files.getAttribute(local, "unix:mode") & 0777;
      } catch (UnsupportedOperationException | IllegalArgumentException notUnix) {
        // keep 0644
      }
      return upload(path, in, mode);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Makes directory {@code path}, and its missing parents (mode 0755). An existing one is fine. */
  public void makeDirectories(String path) {
    files.makeDirectory(MakeDirectoryRequest.newBuilder().setSessionId(sessionId).setPath(path).setParents(true).build());
  }

  /** Writes what {@code in} holds to {@code path} with permission bits {@code mode}, replacing it; parents are made. */
  public FileInfo upload(String path, InputStream in, int mode) {
    try {
      return files.upload(UploadFileHeader.newBuilder().setSessionId(sessionId).setPath(path).setMode(mode)
          .setOverwrite(true).setMakeParents(true).build(), in).getFile();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The whole file at {@code path}. */
  public byte[] read(String path) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    download(path, out);
    return out.toByteArray();
  }

  /** Copies the file at {@code path} to the local file {@code local}, replacing it. */
  public FileInfo download(String path, Path local) {
    try (OutputStream out = Files.newOutputStream(local)) {
      return download(path, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the file at {@code path} to {@code out}; its description. */
  public FileInfo download(String path, OutputStream out) {
    FileInfo info = null;
    try (Stream<DownloadFileResponse> chunks = files.downloadFile(DownloadFileRequest.newBuilder().setSessionId(sessionId)
        .setPath(path).build())) {
      for (DownloadFileResponse r : chunks) {
        if (r.hasFile()) {
          info = r.getFile();
        }
        r.getData().writeTo(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return info;
  }

  /** The entries of directory {@code path} ("" = the workspace), every page of them. */
  public List<FileInfo> list(String path) {
    List<FileInfo> all = new ArrayList<>();
    String token = "";
    do {
      String page = token;
      ListFilesResponse r = files.listFiles(ListFilesRequest.newBuilder().setSessionId(sessionId).setPath(path)
          .setPageToken(page).build());
      all.addAll(r.getFilesList());
      token = r.getNextPageToken().equals(page) ? "" : r.getNextPageToken();
    } while (!token.isEmpty());
    return all;
  }

  /** What is at {@code path}, or empty when nothing is. */
  public Optional<FileInfo> stat(String path) {
    var r = files.statFile(StatFileRequest.newBuilder().setSessionId(sessionId).setPath(path).build());
    return r.getExists() ? Optional.of(r.getFile()) : Optional.empty();
  }

  /** Removes the file or directory at {@code path} ({@code recursive} for a directory that is not empty). */
  public void remove(String path, boolean recursive) {
    files.removeFile(RemoveFileRequest.newBuilder().setSessionId(sessionId).setPath(path).setRecursive(recursive).build());
  }
}
