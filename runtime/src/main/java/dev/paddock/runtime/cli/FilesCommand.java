package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.ChangeFileModeRequest;
import dev.paddock.ipc.v1.ChangeFileModeResponse;
import dev.paddock.ipc.v1.DownloadFileRequest;
import dev.paddock.ipc.v1.DownloadFileResponse;
import dev.paddock.ipc.v1.FileInfo;
import dev.paddock.ipc.v1.ListFilesRequest;
import dev.paddock.ipc.v1.MakeDirectoryRequest;
import dev.paddock.ipc.v1.MakeDirectoryResponse;
import dev.paddock.ipc.v1.RemoveFileRequest;
import dev.paddock.ipc.v1.RemoveFileResponse;
import dev.paddock.ipc.v1.RenameFileRequest;
import dev.paddock.ipc.v1.RenameFileResponse;
import dev.paddock.ipc.v1.StatFileRequest;
import dev.paddock.ipc.v1.StatFileResponse;
import dev.paddock.ipc.v1.UploadFileHeader;
import dev.paddock.ipc.v1.UploadFileResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code paddock files put | get | ls | rm | mkdir | mv | stat | chmod}: a session's workspace from
 * outside (FileService). Remote paths are relative to the workspace ({@code src/x.py} is
 * {@code /workspace/src/x.py} in a jail).
 */
@Command(name = "files", mixinStandardHelpOptions = true,
    description = {"Reads and writes files of a session's workspace without starting a jail.",
        "REMOTE paths are relative to the workspace (\"src/main.py\" is /workspace/src/main.py in the sandbox).",
        "With --json each command prints its response message (ls: one FileInfo per line)."},
    subcommands = {FilesCommand.Put.class, FilesCommand.Get.class, FilesCommand.Ls.class, FilesCommand.Rm.class,
        FilesCommand.Mkdir.class, FilesCommand.Mv.class, FilesCommand.Stat.class, FilesCommand.Chmod.class})
final class FilesCommand implements Runnable {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** What every files subcommand shares: the client options and {@code --session}. */
  abstract static class FileCommand extends ClientCommand {
    @Option(names = "--session", required = true, paramLabel = "SESSION", description = "Session id.")
    String session;
  }

  /** {@code paddock files put}. */
  @Command(name = "put", mixinStandardHelpOptions = true,
      description = {"Uploads LOCAL ('-' = stdin) to REMOTE. The file appears whole or not at all.",
          "Prints nothing (with --json: the UploadFileResponse)."})
  static final class Put extends FileCommand {
    @Parameters(index = "0", paramLabel = "LOCAL", description = "Local file, or - for stdin.")
    String local;

    @Parameters(index = "1", paramLabel = "REMOTE", description = "Path in the workspace.")
    String remote;

    @Option(names = "--mode", paramLabel = "OCTAL", converter = Units.Mode.class,
        description = "Permission bits, octal within 0777 (755). Default: 644.")
    int mode;

    @Option(names = "--overwrite", description = "Replace REMOTE if it exists. Default: refuse (FILE_ALREADY_EXISTS).")
    boolean overwrite;

    @Option(names = {"-p", "--parents"}, description = "Create missing parent directories (mode 755).")
    boolean parents;

    @Override
    int run(Client client) throws Exception {
      boolean stdin = local.equals("-");
      long size = 0;
      if (!stdin) {
        Path path = Path.of(local);
        if (!Files.isRegularFile(path)) {
          return client.out().fail(Files.exists(path) ? "not a regular file: " + local : "no such file: " + local);
        }
        size = Files.size(path);
      }
      UploadFileHeader header = UploadFileHeader.newBuilder().setSessionId(session).setPath(remote).setMode(mode)
          .setOverwrite(overwrite).setMakeParents(parents).setSizeBytes(size).build();
      UploadFileResponse response;
      if (stdin) {
        response = client.files().upload(header, System.in);
      } else {
        try (InputStream in = Files.newInputStream(Path.of(local))) {
          response = client.files().upload(header, in);
        }
      }
      if (client.out().json()) {
        client.out().json(response);
      }
      return 0;
    }
  }

  /** {@code paddock files get}. */
  @Command(name = "get", mixinStandardHelpOptions = true,
      description = {"Downloads REMOTE to LOCAL (a file, or a directory to put it in), or to stdout when LOCAL is - or missing.",
          "A local file appears whole or not at all, with REMOTE's permission bits minus group/other write.",
          "With --json: to a file, {\"file\": FileInfo, \"localPath\", \"bytesWritten\"}; to stdout, every DownloadFileResponse."})
  static final class Get extends FileCommand {
    @Parameters(index = "0", paramLabel = "REMOTE", description = "Path in the workspace.")
    String remote;

    @Parameters(index = "1", arity = "0..1", paramLabel = "LOCAL", defaultValue = "-",
        description = "Local file or directory, or - for stdout. Default: stdout.")
    String local;

    @Override
    int run(Client client) throws IOException {
      Output out = client.out();
      Iterator<DownloadFileResponse> chunks = client.files().downloadFile(
          DownloadFileRequest.newBuilder().setSessionId(session).setPath(remote).build());
      if (local.equals("-")) {
        while (chunks.hasNext()) {
          DownloadFileResponse chunk = chunks.next();
          if (out.json()) {
            out.json(chunk);
          } else {
            chunk.getData().writeTo(out.stdout());
          }
        }
        out.stdout().flush();
        return 0;
      }
      Path target = Path.of(local);
      if (Files.isDirectory(target)) {
        String name = remote.replaceAll("/+$", "");
        target = target.resolve(name.substring(name.lastIndexOf('/') + 1));
      }
      Path parent = target.toAbsolutePath().getParent();
      Path partial = Files.createTempFile(parent, "." + target.getFileName(), ".part");
      FileInfo info = null;
      long written = 0;
      try {
        try (OutputStream file = Files.newOutputStream(partial)) {
          while (chunks.hasNext()) {
            DownloadFileResponse chunk = chunks.next();
            if (chunk.hasFile()) {
              info = chunk.getFile();
            }
            chunk.getData().writeTo(file);
            written += chunk.getData().size();
          }
        }
        if (info != null) {
          setMode(partial, info.getMode() & 0755);
        }
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(partial);
      }
      if (out.json()) {
        var line = Output.object();
        if (info != null) {
          line.set("file", ProtoJson.toJson(info));
        }
        out.json(line.put("localPath", target.toString()).put("bytesWritten", Long.toString(written)));
      }
      return 0;
    }

    private static void setMode(Path path, int mode) {
      Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
      PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ ... OTHERS_EXECUTE, high bit first
      for (int i = 0; i < bits.length; i++) {
        if ((mode & (1 << (bits.length - 1 - i))) != 0) {
          permissions.add(bits[i]);
        }
      }
      try {
        Files.setPosixFilePermissions(path, permissions);
      } catch (UnsupportedOperationException | IOException e) {
        // not a POSIX file system: keep the default permissions
      }
    }
  }

  /** {@code paddock files ls}. */
  @Command(name = "ls", mixinStandardHelpOptions = true,
      description = {"Lists a directory of the workspace (symbolic links are listed, never followed), sorted by path.",
          "Columns: MODE, SIZE (bytes), MODIFIED (UTC), PATH. With --json: one FileInfo per line."})
  static final class Ls extends FileCommand {
    @Parameters(arity = "0..1", paramLabel = "PATH", defaultValue = "", description = "Directory. Default: the workspace root.")
    String path;

    @Option(names = {"-r", "--recursive"}, description = "Also list subdirectories.")
    boolean recursive;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "0",
        description = "Levels to descend (1 = direct entries only); implies -r. Default: no limit.")
    int depth;

    @Override
    int run(Client client) {
      Output out = client.out();
      List<List<String>> rows = new ArrayList<>();
      Client.allPages(
          token -> client.files().listFiles(ListFilesRequest.newBuilder().setSessionId(session).setPath(path)
              .setRecursive(recursive || depth > 0).setDepth(depth).setPageToken(token).build()),
          page -> page.getNextPageToken(),
          page -> {
            for (FileInfo f : page.getFilesList()) {
              if (out.json()) {
                out.json(f);
              } else {
                rows.add(List.of(modeString(f), Long.toUnsignedString(f.getSizeBytes()),
                    Output.time(f.hasModifyTime(), f.getModifyTime()), displayPath(f)));
              }
            }
          });
      if (!out.json()) {
        out.table(List.of("MODE", "SIZE", "MODIFIED", "PATH"), rows);
      }
      return 0;
    }
  }

  /** {@code paddock files rm}. */
  @Command(name = "rm", mixinStandardHelpOptions = true,
      description = "Removes a file, symbolic link or empty directory (with -r, a directory and everything in it). Prints nothing.")
  static final class Rm extends FileCommand {
    @Parameters(paramLabel = "PATH", description = "Path in the workspace (not the root).")
    String path;

    @Option(names = {"-r", "--recursive"}, description = "Remove a directory with its contents.")
    boolean recursive;

    @Override
    int run(Client client) {
      RemoveFileResponse response = client.files().removeFile(
          RemoveFileRequest.newBuilder().setSessionId(session).setPath(path).setRecursive(recursive).build());
      if (client.out().json()) {
        client.out().json(response);
      }
      return 0;
    }
  }

  /** {@code paddock files mkdir}. */
  @Command(name = "mkdir", mixinStandardHelpOptions = true,
      description = "Creates a directory; an existing one is not an error. Prints nothing (with --json: the MakeDirectoryResponse).")
  static final class Mkdir extends FileCommand {
    @Parameters(paramLabel = "PATH", description = "Directory to create.")
    String path;

    @Option(names = {"-p", "--parents"}, description = "Create missing parent directories too.")
    boolean parents;

    @Option(names = "--mode", paramLabel = "OCTAL", converter = Units.Mode.class,
        description = "Permission bits, octal within 0777. Default: 755.")
    int mode;

    @Override
    int run(Client client) {
      MakeDirectoryResponse response = client.files().makeDirectory(MakeDirectoryRequest.newBuilder()
          .setSessionId(session).setPath(path).setParents(parents).setMode(mode).build());
      if (client.out().json()) {
        client.out().json(response);
      }
      return 0;
    }
  }

  /** {@code paddock files mv}. */
  @Command(name = "mv", mixinStandardHelpOptions = true,
      description = "Renames or moves a file or directory within the workspace. Prints nothing (with --json: the RenameFileResponse).")
  static final class Mv extends FileCommand {
    @Parameters(index = "0", paramLabel = "FROM", description = "Existing path.")
    String from;

    @Parameters(index = "1", paramLabel = "TO", description = "New path; its parent must exist.")
    String to;

    @Option(names = "--overwrite", description = "Replace TO if it exists (a directory only if empty).")
    boolean overwrite;

    @Override
    int run(Client client) {
      RenameFileResponse response = client.files().renameFile(RenameFileRequest.newBuilder()
          .setSessionId(session).setFromPath(from).setToPath(to).setOverwrite(overwrite).build());
      if (client.out().json()) {
        client.out().json(response);
      }
      return 0;
    }
  }

  /** {@code paddock files stat}. */
  @Command(name = "stat", mixinStandardHelpOptions = true,
      description = {"Describes a path. Exits 0 when it exists, 1 when it does not (not an error).",
          "With --json: the StatFileResponse ({\"exists\": false} for a missing path)."})
  static final class Stat extends FileCommand {
    @Parameters(arity = "0..1", paramLabel = "PATH", defaultValue = "", description = "Path. Default: the workspace root.")
    String path;

    @Override
    int run(Client client) {
      StatFileResponse response = client.files().statFile(StatFileRequest.newBuilder().setSessionId(session).setPath(path).build());
      Output out = client.out();
      if (out.json()) {
        out.json(response);
      } else if (!response.getExists()) {
        out.note((path.isEmpty() ? "." : path) + ": does not exist");
      } else {
        FileInfo f = response.getFile();
        String type = f.getIsDir() ? "directory" : f.getIsSymlink() ? "symbolic link to " + f.getSymlinkTarget() : "file";
        out.rows(List.of(
            List.of("Path:", f.getPath().isEmpty() ? "." : f.getPath()),
            List.of("Type:", type),
            List.of("Size:", Long.toUnsignedString(f.getSizeBytes()) + " (" + Units.formatBytes(f.getSizeBytes()) + ")"),
            List.of("Mode:", Units.formatMode(f.getMode()) + " (" + modeString(f) + ")"),
            List.of("Modified:", Output.time(f.hasModifyTime(), f.getModifyTime()))));
      }
      return response.getExists() ? 0 : 1;
    }
  }

  /** {@code paddock files chmod}. */
  @Command(name = "chmod", mixinStandardHelpOptions = true,
      description = "Changes the permission bits of a file or directory. Prints nothing (with --json: the ChangeFileModeResponse).")
  static final class Chmod extends FileCommand {
    @Parameters(index = "0", paramLabel = "PATH", description = "Path in the workspace.")
    String path;

    @Parameters(index = "1", paramLabel = "MODE", converter = Units.Mode.class, description = "Octal permission bits within 0777 (644, 0755).")
    int mode;

    @Override
    int run(Client client) {
      ChangeFileModeResponse response = client.files().changeFileMode(
          ChangeFileModeRequest.newBuilder().setSessionId(session).setPath(path).setMode(mode).build());
      if (client.out().json()) {
        client.out().json(response);
      }
      return 0;
    }
  }

  /** {@code drwxr-xr-x}, {@code -rw-r--r--}, {@code lrwxrwxrwx}, as {@code ls -l} shows them. */
  static String modeString(FileInfo f) {
    StringBuilder b = new StringBuilder(f.getIsDir() ? "d" : f.getIsSymlink() ? "l" : "-");
    String letters = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      b.append((f.getMode() & (1 << (8 - i))) != 0 ? letters.charAt(i) : '-');
    }
    return b.toString();
  }

  private static String displayPath(FileInfo f) {
    if (f.getIsSymlink()) {
      return f.getPath() + " -> " + f.getSymlinkTarget();
    }
    return f.getIsDir() ? f.getPath() + "/" : f.getPath();
  }
}
