package dev.paddock.runtime.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.QuotaFailure;
import dev.paddock.ipc.v1.ChangeFileModeRequest;
import dev.paddock.ipc.v1.CloseSessionRequest;
import dev.paddock.ipc.v1.CreateSessionRequest;
import dev.paddock.ipc.v1.DownloadFileRequest;
import dev.paddock.ipc.v1.DownloadFileResponse;
import dev.paddock.ipc.v1.ExecStatus;
import dev.paddock.ipc.v1.FileInfo;
import dev.paddock.ipc.v1.FileServiceGrpc;
import dev.paddock.ipc.v1.ListFilesRequest;
import dev.paddock.ipc.v1.ListFilesResponse;
import dev.paddock.ipc.v1.MakeDirectoryRequest;
import dev.paddock.ipc.v1.MakeDirectoryResponse;
import dev.paddock.ipc.v1.RemoveFileRequest;
import dev.paddock.ipc.v1.RenameFileRequest;
import dev.paddock.ipc.v1.ResourceLimits;
import dev.paddock.ipc.v1.StatFileRequest;
import dev.paddock.ipc.v1.StatFileResponse;
import dev.paddock.ipc.v1.UploadFileHeader;
import dev.paddock.ipc.v1.UploadFileRequest;
import dev.paddock.ipc.v1.UploadFileResponse;
import dev.paddock.ipc.v1.WatchDirectoryRequest;
import dev.paddock.runtime.session.SessionSettings;
import dev.paddock.sandbox.JailRequirement;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FileService over a real TCP port against real session jails: 100 MB streamed both ways and
 * processed inside, symlinks planted by the tenant never leading out, a full workspace refusing
 * writes without touching the host's disk, every RPC's happy path and typed errors, and tenancy.
 */
class FileServiceEndToEndTest extends SharedHostTest {
  private static final long MIB = 1024 * 1024;

  // ---- 100 MB through the jail ----------------------------------------------------------------

  @Test
  void hundredMegabytesGoInAreProcessedInsideAndComeBackByteExact() throws Exception {
    String session = host.newSession(host.alphaKey);
    long size = 100 * MIB;
    Generated source = new Generated(size, 42);

    long t0 = System.nanoTime();
    UploadFileResponse up = upload(host.alphaKey, UploadFileHeader.newBuilder()
        .setSessionId(session).setPath("big.bin").setSizeBytes(size).build(), source);
    long uploadMs = (System.nanoTime() - t0) / 1_000_000;
    String sent = HexFormat.of().formatHex(source.digest.digest());
    assertThat(source.produced).isEqualTo(size);
    assertThat(up.getFile().getPath()).isEqualTo("big.bin");
    assertThat(up.getFile().getName()).isEqualTo("big.bin");
    assertThat(up.getFile().getSizeBytes()).isEqualTo(size);
    assertThat(up.getFile().getMode()).isEqualTo(0644);
    assertThat(up.getFile().getIsDir()).isFalse();

    TestHost.Outcome sum = host.exec(host.alphaKey, session, "sha256sum", "/workspace/big.bin");
    assertThat(sum.result().getStatus()).isEqualTo(ExecStatus.EXEC_STATUS_OK);
    assertThat(sum.out()).isEqualTo(sent + "  /workspace/big.bin\n");

    TestHost.Outcome cp = host.exec(host.alphaKey, session, "cp", "big.bin", "out.bin");
    assertThat(cp.result().getExitCode()).as(cp.err()).isZero();

    t0 = System.nanoTime();
    Downloaded down = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("out.bin").build());
    long downloadMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(down.error).isNull();
    assertThat(down.bytes).isEqualTo(size);
    assertThat(down.sha256()).isEqualTo(sent);
    assertThat(down.first.getFile().getSizeBytes()).isEqualTo(size);
    assertThat(down.first.getFile().getPath()).isEqualTo("out.bin");
    assertThat(down.messages).isEqualTo(size / (64 * 1024));
    System.out.printf("100 MiB over gRPC: upload %d ms, download %d ms%n", uploadMs, downloadMs);

    // a byte range, a range running past the end, and an offset past the end
    Downloaded range = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("big.bin").setOffset(70_000).setLength(100_000).build());
    assertThat(range.bytes).isEqualTo(100_000);
    assertThat(range.first.getOffset()).isEqualTo(70_000);
    assertThat(range.sha256()).isEqualTo(sha256(new Generated(size, 42), 70_000, 100_000));
    Downloaded tail = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("big.bin").setOffset(size - 10).setLength(1000).build());
    assertThat(tail.bytes).isEqualTo(10);
    Downloaded past = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("big.bin").setOffset(size + 5).build());
    assertThat(past.messages).isEqualTo(1);
    assertThat(past.bytes).isZero();
    assertThat(past.first.getFile().getSizeBytes()).isEqualTo(size);
    Downloaded farPast = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("big.bin").setOffset(-1L).build()); // 2^64 - 1 on the wire
    assertThat(farPast.messages).isEqualTo(1);
    assertThat(farPast.bytes).isZero();
  }

  // ---- planted symlinks -----------------------------------------------------------------------

  @Test
  void symlinksPlantedInsideNeverLeadOut() throws Exception {
    String session = host.newSession(host.alphaKey);
    TestHost.Outcome plant = host.exec(host.alphaKey, session, "sh", "-c",
        "ln -s /etc/passwd /workspace/link && ln -s .. /workspace/up && ln -s /etc /workspace/etcdir"
            + " && mkdir /workspace/d && echo inside > /workspace/d/f && ln -s d /workspace/dlink");
    assertThat(plant.result().getExitCode()).as(plant.err()).isZero();
    byte[] hostPasswd = Files.readAllBytes(Path.of("/etc/passwd"));

    Downloaded link = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("link").build());
    assertThat(link.received.toByteArray()).isNotEqualTo(hostPasswd);
    assertThat(link.bytes).isZero();
    TestHost.Failure f = link.failure();
    assertThat(f.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(f.info().getReason()).isEqualTo("WRONG_FILE_TYPE");
    assertThat(f.info().getMetadataMap()).containsEntry("path", "link").containsEntry("expected", "file");

    for (String escape : List.of("up/anything", "up/etc/passwd", "etcdir/passwd")) {
      Downloaded out = download(host.alphaKey, DownloadFileRequest.newBuilder()
          .setSessionId(session).setPath(escape).build());
      assertThat(out.received.toByteArray()).as(escape).isNotEqualTo(hostPasswd);
      assertInvalid(out.failure(), "path");
      assertInvalid(failure(() -> stub(host.alphaKey).statFile(StatFileRequest.newBuilder()
          .setSessionId(session).setPath(escape).build())), "path");
    }

    // uploads through a symlinked directory that leads out are refused, and nothing lands outside
    for (String target : List.of("etcdir/paddock-evil", "up/paddock-evil")) {
      TestHost.Failure refused = failure(() -> upload(host.alphaKey, UploadFileHeader.newBuilder()
          .setSessionId(session).setPath(target).setMakeParents(true).build(), bytes("evil")));
      assertInvalid(refused, "header.path");
    }
    assertThat(Path.of("/etc/paddock-evil")).doesNotExist();
    assertInvalid(failure(() -> stub(host.alphaKey).makeDirectory(MakeDirectoryRequest.newBuilder()
        .setSessionId(session).setPath("etcdir/x").setParents(true).build())), "path");
    assertInvalid(failure(() -> stub(host.alphaKey).listFiles(ListFilesRequest.newBuilder()
        .setSessionId(session).setPath("up/x").build())), "path");
    assertThat(failure(() -> stub(host.alphaKey).listFiles(ListFilesRequest.newBuilder()
        .setSessionId(session).setPath("up").build())).info().getReason()).isEqualTo("WRONG_FILE_TYPE");

    // links are described and listed as links, never followed as the last component
    StatFileResponse st = stub(host.alphaKey).statFile(StatFileRequest.newBuilder()
        .setSessionId(session).setPath("link").build());
    assertThat(st.getExists()).isTrue();
    assertThat(st.getFile().getIsSymlink()).isTrue();
    assertThat(st.getFile().getSymlinkTarget()).isEqualTo("/etc/passwd");
    assertThat(st.getFile().getSizeBytes()).isEqualTo("/etc/passwd".length());
    ListFilesResponse all = stub(host.alphaKey).listFiles(ListFilesRequest.newBuilder()
        .setSessionId(session).setRecursive(true).build());
    assertThat(all.getFilesList()).extracting(FileInfo::getPath)
        .containsExactly("d", "d/f", "dlink", "etcdir", "link", "up");
    TestHost.Failure listLink = failure(() -> stub(host.alphaKey).listFiles(ListFilesRequest.newBuilder()
        .setSessionId(session).setPath("dlink").build()));
    assertThat(listLink.info().getReason()).isEqualTo("WRONG_FILE_TYPE");
    assertThat(listLink.info().getMetadataMap()).containsEntry("expected", "directory");
    assertInvalid(failure(() -> stub(host.alphaKey).changeFileMode(ChangeFileModeRequest.newBuilder()
        .setSessionId(session).setPath("link").setMode(0777).build())), "path");

    // a symlink inside the workspace is followed in the middle of a path
    Downloaded inside = download(host.alphaKey, DownloadFileRequest.newBuilder()
        .setSessionId(session).setPath("dlink/f").build());
    assertThat(inside.error).isNull();
    assertThat(inside.received.toString(StandardCharsets.UTF_8)).isEqualTo("inside\n");

    // removing a link removes the link, not its target
    stub(host.alphaKey).removeFile(RemoveFileRequest.newBuilder().setSessionId(session).setPath("dlink").build());
    assertThat(stat(session, "d/f").getExists()).isTrue();
    assertThat(stat(session, "dlink").getExists()).isFalse();
    assertThat(Files.readAllBytes(Path.of("/etc/passwd"))).isEqualTo(hostPasswd);
  }

  // ---- a full workspace -----------------------------------------------------------------------

  @Test
  void aFullWorkspaceRefusesWritesAndTheHostDiskDoesNotMove(@TempDir Path temp) throws Exception {
    SessionSettings d = SessionSettings.defaults();
    SessionSettings small = new SessionSettings(d.defaultIdleTimeout(), d.maxIdleTimeout(), d.defaultMaxLifetime(),
        d.maxLifetime(), d.defaultExecTimeout(), d.maxExecTimeout(), d.maxLimits(), d.closedRetention(),
        d.maxOutputBytes(), d.clientStallTimeout(), d.replayBytes(), d.retainedExecs(), 16 * MIB, 10_000);
    try (TestHost smallHost = new TestHost(temp, JailRequirement.nsjail(), small)) {
      String session = smallHost.newSession(smallHost.alphaKey);
      long before = Files.getFileStore(temp).getUsableSpace();

      StatusRuntimeException full = expectThrows(() -> upload(smallHost, smallHost.alphaKey, UploadFileHeader.newBuilder()
          .setSessionId(session).setPath("big.bin").build(), new Generated(24 * MIB, 7)));
      TestHost.Failure f = TestHost.failure(full);
      assertThat(f.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(f.info().getReason()).isEqualTo("WORKSPACE_FULL");
      assertThat(f.info().getMetadataMap()).containsEntry("sessionId", session);
      assertThat(quotaSubjects(full)).containsExactly("session:" + session);
      assertSafe(f, temp);

      // nothing of the failed upload is left, not even its temporary file
      FileServiceGrpc.FileServiceBlockingStub files = FileServiceGrpc.newBlockingStub(
          smallHost.channel(smallHost.alphaKey, null)).withDeadlineAfter(60, TimeUnit.SECONDS);
      assertThat(files.listFiles(ListFilesRequest.newBuilder().setSessionId(session).build()).getFilesList())
          .isEmpty();

      TestHost.Outcome dd = smallHost.exec(smallHost.alphaKey, session, "dd", "if=/dev/zero", "of=/workspace/f",
          "bs=1M", "count=64");
      assertThat(dd.result().getExitCode()).isNotZero();
      assertThat(dd.err()).contains("No space left on device");
      long after = Files.getFileStore(temp).getUsableSpace();
      System.out.printf("workspace full: host usable space moved by %d bytes%n", before - after);
      assertThat(Math.abs(before - after)).as("host disk usage change, bytes").isLessThan(8 * MIB);

      TestHost.Outcome ls = smallHost.exec(smallHost.alphaKey, session, "stat", "-c", "%s", "/workspace/f");
      assertThat(Long.parseLong(ls.out().trim())).isLessThanOrEqualTo(16 * MIB);
      files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session).setPath("f").build());
      UploadFileResponse fits = upload(smallHost, smallHost.alphaKey, UploadFileHeader.newBuilder()
          .setSessionId(session).setPath("fits.bin").build(), new Generated(8 * MIB, 3));
      assertThat(fits.getFile().getSizeBytes()).isEqualTo(8 * MIB);
    }
  }

  // ---- every RPC: happy paths and typed errors ------------------------------------------------

  @Test
  void directoriesFilesRenamesModesAndRemovalWithTheirTypedErrors() throws Exception {
    String session = host.newSession(host.alphaKey);
    FileServiceGrpc.FileServiceBlockingStub files = stub(host.alphaKey);

    // MakeDirectory
    MakeDirectoryResponse src = files.makeDirectory(MakeDirectoryRequest.newBuilder()
        .setSessionId(session).setPath("src").build());
    assertThat(src.getCreated()).isTrue();
    assertThat(src.getDirectory().getIsDir()).isTrue();
    assertThat(src.getDirectory().getMode()).isEqualTo(0755);
    assertThat(files.makeDirectory(MakeDirectoryRequest.newBuilder().setSessionId(session).setPath("src").build())
        .getCreated()).isFalse();
    assertFileNotFound(failure(() -> files.makeDirectory(MakeDirectoryRequest.newBuilder()
        .setSessionId(session).setPath("a/b/c").build())));
    MakeDirectoryResponse abc = files.makeDirectory(MakeDirectoryRequest.newBuilder()
        .setSessionId(session).setPath("a/b/c").setParents(true).setMode(0700).build());
    assertThat(abc.getCreated()).isTrue();
    assertThat(abc.getDirectory().getMode()).isEqualTo(0700);
    assertInvalid(failure(() -> files.makeDirectory(MakeDirectoryRequest.newBuilder()
        .setSessionId(session).setPath("x").setMode(01777).build())), "mode");

    // UploadFile
    UploadFileResponse main = upload(host.alphaKey, header(session, "src/main.py").build(), bytes("print(6*7)\n"));
    assertThat(main.getFile().getMode()).isEqualTo(0644);
    assertThat(main.getFile().getSizeBytes()).isEqualTo(11);
    TestHost.Failure exists = failure(() -> upload(host.alphaKey, header(session, "src/main.py").build(), bytes("x")));
    assertThat(exists.code()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(exists.info().getReason()).isEqualTo("FILE_ALREADY_EXISTS");
    assertThat(exists.info().getMetadataMap()).containsEntry("path", "src/main.py");
    UploadFileResponse again = upload(host.alphaKey, header(session, "src/main.py").setOverwrite(true)
        .setMode(0600).build(), bytes("print(6*7)\n"));
    assertThat(again.getFile().getMode()).isEqualTo(0600);
    assertFileNotFound(failure(() -> upload(host.alphaKey, header(session, "nope/x.txt").build(), bytes("x"))));
    assertThat(upload(host.alphaKey, header(session, "nope/deeper/x.txt").setMakeParents(true).build(), bytes("x"))
        .getFile().getPath()).isEqualTo("nope/deeper/x.txt");
    TestHost.Failure onDir = failure(() -> upload(host.alphaKey, header(session, "src").setOverwrite(true).build(),
        bytes("x")));
    assertThat(onDir.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(onDir.info().getReason()).isEqualTo("WRONG_FILE_TYPE");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, "/etc/passwd").build(), bytes("x"))),
        "header.path");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, "../x").build(), bytes("x"))), "header.path");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, "m").setMode(04755).build(), bytes("x"))),
        "header.mode");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, "short").setSizeBytes(10).build(),
        bytes("12345"))), "header.size_bytes");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, "long").setSizeBytes(3).build(),
        bytes("12345"))), "header.size_bytes");
    assertThat(stat(session, "short").getExists()).isFalse();
    assertThat(stat(session, "long").getExists()).isFalse();
    assertInvalid(failure(() -> upload(host.alphaKey, null, bytes("no header"))), "header");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, "").build(), bytes("x"))), "header.path");
    assertInvalid(failure(() -> upload(host.alphaKey, header(session, ".").build(), bytes("x"))), "header.path");
    assertInvalid(download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(session).build()).failure(),
        "path");
    assertInvalid(failure(() -> files.makeDirectory(MakeDirectoryRequest.newBuilder().setSessionId(session)
        .build())), "path");
    assertInvalid(failure(() -> files.statFile(StatFileRequest.newBuilder().setPath("x").build())), "session_id");
    assertInvalid(failure(() -> upload(host.alphaKey, header("", "x").build(), bytes("x"))), "header.session_id");
    TestHost.Failure chunk = failure(() -> upload(host.alphaKey, header(session, "chunky").build(),
        new Generated(3 * MIB, 1), (int) (2 * MIB)));
    assertThat(chunk.info().getReason()).isEqualTo("PAYLOAD_TOO_LARGE");
    assertThat(chunk.info().getMetadataMap()).containsEntry("field", "data").containsEntry("limitBytes", "1048576");

    // the program inside sees the uploaded file, and may change it (it belongs to the sandbox user)
    TestHost.Outcome run = host.exec(host.alphaKey, session, "sh", "-c",
        "python3 src/main.py && echo 'print(1)' >> src/main.py && stat -c %u src/main.py");
    assertThat(run.out()).as(run.err()).isEqualTo("42\n1000\n");

    // StatFile
    StatFileResponse st = stat(session, "src/main.py");
    assertThat(st.getExists()).isTrue();
    assertThat(st.getFile().getSizeBytes()).isEqualTo(20);
    assertThat(st.getFile().getModifyTime().getSeconds()).isPositive();
    assertThat(stat(session, "missing").getExists()).isFalse();
    assertThat(stat(session, "missing/deeper").getExists()).isFalse();
    StatFileResponse root = stat(session, "");
    assertThat(root.getFile().getIsDir()).isTrue();
    assertThat(root.getFile().getPath()).isEmpty();

    // DownloadFile
    Downloaded py = download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(session)
        .setPath("src/main.py").setOffset(6).setLength(3).build());
    assertThat(py.received.toString(StandardCharsets.UTF_8)).isEqualTo("6*7");
    assertFileNotFound(download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(session)
        .setPath("missing").build()).failure());
    TestHost.Failure dir = download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(session)
        .setPath("src").build()).failure();
    assertThat(dir.info().getReason()).isEqualTo("WRONG_FILE_TYPE");
    assertThat(dir.info().getMetadataMap()).containsEntry("expected", "file");
    assertThat(host.exec(host.alphaKey, session, "ln", "src/main.py", "hardlink").result().getExitCode()).isZero();
    assertThat(download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(session)
        .setPath("hardlink").build()).failure().info().getReason()).isEqualTo("WRONG_FILE_TYPE");
    files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session).setPath("hardlink").build());
    Downloaded empty = download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(session)
        .setPath("nope/deeper/x.txt").setOffset(1).build());
    assertThat(empty.messages).isEqualTo(1);
    assertThat(empty.first.hasFile()).isTrue();

    // ListFiles, with paging
    assertThat(files.listFiles(ListFilesRequest.newBuilder().setSessionId(session).build()).getFilesList())
        .extracting(FileInfo::getPath).containsExactly("a", "nope", "src");
    List<String> everything = List.of("a", "a/b", "a/b/c", "nope", "nope/deeper", "nope/deeper/x.txt", "src",
        "src/main.py");
    assertThat(files.listFiles(ListFilesRequest.newBuilder().setSessionId(session).setRecursive(true).build())
        .getFilesList()).extracting(FileInfo::getPath).containsExactlyElementsOf(everything);
    assertThat(files.listFiles(ListFilesRequest.newBuilder().setSessionId(session).setRecursive(true).setDepth(2)
        .build()).getFilesList()).extracting(FileInfo::getPath)
        .containsExactly("a", "a/b", "nope", "nope/deeper", "src", "src/main.py");
    List<String> paged = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListFilesResponse page = files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
          .setRecursive(true).setPageSize(3).setPageToken(token).build());
      assertThat(page.getFilesCount()).isLessThanOrEqualTo(3);
      page.getFilesList().forEach(i -> paged.add(i.getPath()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty() && pages < 10);
    assertThat(paged).containsExactlyElementsOf(everything);
    assertThat(pages).isEqualTo(3);
    String firstToken = files.listFiles(ListFilesRequest.newBuilder().setSessionId(session).setRecursive(true)
        .setPageSize(2).build()).getNextPageToken();
    assertThat(firstToken).isNotEmpty();
    assertInvalid(failure(() -> files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
        .setRecursive(true).setDepth(3).setPageToken(firstToken).build())), "page_token");
    assertInvalid(failure(() -> files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
        .setPath("src").setRecursive(true).setPageToken(firstToken).build())), "page_token");
    assertInvalid(failure(() -> files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
        .setPageToken("garbage!").build())), "page_token");
    assertInvalid(failure(() -> files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
        .setRecursive(true).setDepth(65).build())), "depth");
    assertFileNotFound(failure(() -> files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
        .setPath("missing").build())));
    TestHost.Failure notDir = failure(() -> files.listFiles(ListFilesRequest.newBuilder().setSessionId(session)
        .setPath("src/main.py").build()));
    assertThat(notDir.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(notDir.info().getMetadataMap()).containsEntry("expected", "directory");

    // RenameFile
    FileInfo moved = files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("src/main.py").setToPath("src/app.py").build()).getFile();
    assertThat(moved.getPath()).isEqualTo("src/app.py");
    assertThat(moved.getName()).isEqualTo("app.py");
    assertFileNotFound(failure(() -> files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("src/main.py").setToPath("src/x.py").build())));
    TestHost.Failure taken = failure(() -> files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("src/app.py").setToPath("nope/deeper/x.txt").build()));
    assertThat(taken.code()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(taken.info().getReason()).isEqualTo("FILE_ALREADY_EXISTS");
    assertThat(taken.info().getMetadataMap()).containsEntry("path", "nope/deeper/x.txt");
    assertThat(files.renameFile(RenameFileRequest.newBuilder().setSessionId(session).setFromPath("src/app.py")
        .setToPath("nope/deeper/x.txt").setOverwrite(true).build()).getFile().getSizeBytes()).isEqualTo(20);
    assertInvalid(failure(() -> files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("").setToPath("y").build())), "from_path");
    assertInvalid(failure(() -> files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("a").setToPath("a/b/c/a").build())), "to_path");
    assertInvalid(failure(() -> files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("a").setToPath("/tmp/a").build())), "to_path");
    TestHost.Failure notEmpty = failure(() -> files.renameFile(RenameFileRequest.newBuilder().setSessionId(session)
        .setFromPath("src").setToPath("a").setOverwrite(true).build()));
    assertThat(notEmpty.info().getReason()).isEqualTo("DIRECTORY_NOT_EMPTY");

    // ChangeFileMode
    FileInfo chmodded = files.changeFileMode(ChangeFileModeRequest.newBuilder().setSessionId(session)
        .setPath("nope/deeper/x.txt").setMode(0750).build()).getFile();
    assertThat(chmodded.getMode()).isEqualTo(0750);
    assertThat(files.changeFileMode(ChangeFileModeRequest.newBuilder().setSessionId(session).setPath("a")
        .setMode(0).build()).getFile().getMode()).isZero();
    assertInvalid(failure(() -> files.changeFileMode(ChangeFileModeRequest.newBuilder().setSessionId(session)
        .setPath("a").setMode(04755).build())), "mode");
    assertFileNotFound(failure(() -> files.changeFileMode(ChangeFileModeRequest.newBuilder()
        .setSessionId(session).setPath("missing").setMode(0644).build())));
    files.changeFileMode(ChangeFileModeRequest.newBuilder().setSessionId(session).setPath("a").setMode(0755).build());

    // RemoveFile
    TestHost.Failure full = failure(() -> files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session)
        .setPath("a").build()));
    assertThat(full.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(full.info().getReason()).isEqualTo("DIRECTORY_NOT_EMPTY");
    assertThat(full.info().getMetadataMap()).containsEntry("path", "a");
    files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session).setPath("a").setRecursive(true).build());
    files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session).setPath("nope/deeper/x.txt").build());
    assertFileNotFound(failure(() -> files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session)
        .setPath("a").build())));
    assertInvalid(failure(() -> files.removeFile(RemoveFileRequest.newBuilder().setSessionId(session)
        .setPath("").setRecursive(true).build())), "path");
    assertThat(files.listFiles(ListFilesRequest.newBuilder().setSessionId(session).setRecursive(true).build())
        .getFilesList()).extracting(FileInfo::getPath).containsExactly("nope", "nope/deeper", "src");
    assertThat(host.exec(host.alphaKey, session, "sh", "-c", "find . | LC_ALL=C sort").out())
        .isEqualTo(".\n./nope\n./nope/deeper\n./src\n");

    // WatchDirectory stays unimplemented
    TestHost.Failure watch = failure(() -> stub(host.alphaKey).watchDirectory(WatchDirectoryRequest.newBuilder()
        .setSessionId(session).build()).hasNext());
    assertThat(watch.code()).isEqualTo(Status.Code.UNIMPLEMENTED);
    assertThat(watch.info().getReason()).isEqualTo("NOT_IMPLEMENTED");
  }

  @Test
  void uploadsLargerThanTheSessionsFileLimitAreRefused() throws Exception {
    String session = host.sessions(host.alphaKey).createSession(CreateSessionRequest.newBuilder()
        .setLimits(ResourceLimits.newBuilder().setMaxFileBytes(MIB)).build()).getSessionId();
    TestHost.Failure announced = failure(() -> upload(host.alphaKey, header(session, "big").setSizeBytes(2 * MIB)
        .build(), new Generated(2 * MIB, 5)));
    assertThat(announced.info().getReason()).isEqualTo("PAYLOAD_TOO_LARGE");
    assertThat(announced.info().getMetadataMap()).containsEntry("field", "header.size_bytes")
        .containsEntry("limitBytes", Long.toString(MIB));
    TestHost.Failure streamed = failure(() -> upload(host.alphaKey, header(session, "big").build(),
        new Generated(2 * MIB, 5)));
    assertThat(streamed.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(streamed.info().getReason()).isEqualTo("PAYLOAD_TOO_LARGE");
    assertThat(streamed.info().getMetadataMap()).containsEntry("field", "data");
    assertThat(stat(session, "big").getExists()).isFalse();
    assertThat(upload(host.alphaKey, header(session, "exact").build(), new Generated(MIB, 5)).getFile()
        .getSizeBytes()).isEqualTo(MIB);
  }

  @Test
  void aCancelledUploadLeavesNothingBehind() throws Exception {
    String session = host.newSession(host.alphaKey);
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    ClientCallStreamObserver<UploadFileRequest>[] call = new ClientCallStreamObserver[1];
    FileServiceGrpc.newStub(host.channel(host.alphaKey, null)).uploadFile(
        new ClientResponseObserver<UploadFileRequest, UploadFileResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<UploadFileRequest> requests) {
            call[0] = requests;
          }

          @Override
          public void onNext(UploadFileResponse value) {}

          @Override
          public void onError(Throwable t) {
            ended.complete(t);
          }

          @Override
          public void onCompleted() {
            ended.complete(null);
          }
        });
    call[0].onNext(UploadFileRequest.newBuilder().setHeader(header(session, "partial.bin")).build());
    byte[] chunk = new byte[(int) MIB];
    for (int i = 0; i < 3; i++) {
      call[0].onNext(UploadFileRequest.newBuilder().setData(ByteString.copyFrom(chunk)).build());
    }
    // wait until the host has started writing: its temporary file shows in the jail
    String during = "";
    for (int i = 0; i < 200 && !during.contains(".paddock-upload-"); i++) {
      during = host.exec(host.alphaKey, session, "ls", "-A").out();
      Thread.sleep(10);
    }
    assertThat(during).as("the upload's temporary file, before the cancel").contains(".paddock-upload-");
    call[0].cancel("test cancels", null);
    assertThat(ended.get(30, TimeUnit.SECONDS)).isInstanceOf(StatusRuntimeException.class);
    String left = "";
    for (int i = 0; i < 200; i++) {
      left = host.exec(host.alphaKey, session, "ls", "-A").out();
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(20);
    }
    assertThat(left).isEmpty();
    assertThat(stat(session, "partial.bin").getExists()).isFalse();
  }

  // ---- tenancy and session state --------------------------------------------------------------

  @Test
  void anotherTenantsSessionAnswersNotFoundAndAClosedOneSessionClosed() throws Exception {
    String alphas = host.newSession(host.alphaKey);
    upload(host.alphaKey, header(alphas, "secret.txt").build(), bytes("alpha's"));
    for (String id : List.of(alphas, "ses_00000000000000000000000000000000")) {
      FileServiceGrpc.FileServiceBlockingStub beta = stub(host.betaKey);
      List<TestHost.Failure> failures = List.of(
          failure(() -> beta.statFile(StatFileRequest.newBuilder().setSessionId(id).setPath("secret.txt").build())),
          failure(() -> beta.listFiles(ListFilesRequest.newBuilder().setSessionId(id).build())),
          failure(() -> beta.removeFile(RemoveFileRequest.newBuilder().setSessionId(id).setPath("secret.txt").build())),
          failure(() -> beta.makeDirectory(MakeDirectoryRequest.newBuilder().setSessionId(id).setPath("x").build())),
          failure(() -> beta.renameFile(RenameFileRequest.newBuilder().setSessionId(id).setFromPath("secret.txt")
              .setToPath("y").build())),
          failure(() -> beta.changeFileMode(ChangeFileModeRequest.newBuilder().setSessionId(id)
              .setPath("secret.txt").setMode(0777).build())),
          download(host.betaKey, DownloadFileRequest.newBuilder().setSessionId(id).setPath("secret.txt").build())
              .failure(),
          failure(() -> upload(host.betaKey, header(id, "secret.txt").setOverwrite(true).build(), bytes("beta's"))));
      for (TestHost.Failure f : failures) {
        assertThat(f.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(f.info().getReason()).isEqualTo("SESSION_NOT_FOUND");
        assertThat(f.info().getMetadataMap()).containsEntry("sessionId", id);
      }
    }
    Downloaded mine = download(host.alphaKey, DownloadFileRequest.newBuilder().setSessionId(alphas)
        .setPath("secret.txt").build());
    assertThat(mine.received.toString(StandardCharsets.UTF_8)).isEqualTo("alpha's");

    host.sessions(host.alphaKey).closeSession(CloseSessionRequest.newBuilder().setSessionId(alphas).build());
    TestHost.Failure closed = failure(() -> stat(alphas, "secret.txt"));
    assertThat(closed.code()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(closed.info().getReason()).isEqualTo("SESSION_CLOSED");
    TestHost.Failure closedUpload = failure(() -> upload(host.alphaKey, header(alphas, "x").build(), bytes("x")));
    assertThat(closedUpload.info().getReason()).isEqualTo("SESSION_CLOSED");
  }

  // ---- helpers --------------------------------------------------------------------------------

  private FileServiceGrpc.FileServiceBlockingStub stub(String key) {
    return FileServiceGrpc.newBlockingStub(host.channel(key, null)).withDeadlineAfter(120, TimeUnit.SECONDS);
  }

  private StatFileResponse stat(String session, String path) {
    return stub(host.alphaKey).statFile(StatFileRequest.newBuilder().setSessionId(session).setPath(path).build());
  }

  private static UploadFileHeader.Builder header(String session, String path) {
    return UploadFileHeader.newBuilder().setSessionId(session).setPath(path);
  }

  private static InputStream bytes(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  private UploadFileResponse upload(String key, UploadFileHeader header, InputStream data) throws Exception {
    return upload(host, key, header, data);
  }

  private static UploadFileResponse upload(TestHost on, String key, UploadFileHeader header, InputStream data)
      throws Exception {
    return upload(on, key, header, data, (int) MIB);
  }

  private UploadFileResponse upload(String key, UploadFileHeader header, InputStream data, int chunkBytes)
      throws Exception {
    return upload(host, key, header, data, chunkBytes);
  }

  /**
   * Streams {@code data} as one UploadFile call ({@code header} first unless null), sending only
   * while the transport is ready, so nothing is buffered whole on either side.
   */
  private static UploadFileResponse upload(TestHost on, String key, UploadFileHeader header, InputStream data,
      int chunkBytes) throws Exception {
    CompletableFuture<UploadFileResponse> result = new CompletableFuture<>();
    FileServiceGrpc.newStub(on.channel(key, null)).withDeadlineAfter(300, TimeUnit.SECONDS).uploadFile(
        new ClientResponseObserver<UploadFileRequest, UploadFileResponse>() {
          private ClientCallStreamObserver<UploadFileRequest> requests;
          private final byte[] buffer = new byte[chunkBytes];
          private boolean headerSent = header == null;
          private boolean done;
          private UploadFileResponse response;

          @Override
          public void beforeStart(ClientCallStreamObserver<UploadFileRequest> requests) {
            this.requests = requests;
            requests.setOnReadyHandler(this::pump);
          }

          private synchronized void pump() {
            try {
              while (!done && !result.isDone() && requests.isReady()) {
                if (!headerSent) {
                  requests.onNext(UploadFileRequest.newBuilder().setHeader(header).build());
                  headerSent = true;
                  continue;
                }
                int n = data.readNBytes(buffer, 0, buffer.length);
                if (n <= 0) {
                  done = true;
                  requests.onCompleted();
                  return;
                }
                requests.onNext(UploadFileRequest.newBuilder().setData(ByteString.copyFrom(buffer, 0, n)).build());
              }
            } catch (IOException e) {
              done = true;
              requests.onError(e);
            }
          }

          @Override
          public void onNext(UploadFileResponse value) {
            response = value;
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            result.complete(response);
          }
        });
    try {
      return result.get(300, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw s;
      }
      throw e;
    }
  }

  /** What one DownloadFile call streamed, checked chunk by chunk as it arrived. */
  private static final class Downloaded {
    final MessageDigest digest = newSha256();
    /** The first few KiB, for small files. */
    final java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
    DownloadFileResponse first;
    long bytes;
    long messages;
    StatusRuntimeException error;

    String sha256() {
      return HexFormat.of().formatHex(digest.digest());
    }

    TestHost.Failure failure() throws Exception {
      assertThat(error).as("the download failed").isNotNull();
      return TestHost.failure(error);
    }
  }

  private Downloaded download(String key, DownloadFileRequest request) {
    Downloaded d = new Downloaded();
    Iterator<DownloadFileResponse> it = stub(key).downloadFile(request);
    try {
      while (it.hasNext()) {
        DownloadFileResponse r = it.next();
        if (d.first == null) {
          d.first = r;
          assertThat(r.hasFile()).as("the first message describes the file").isTrue();
        } else {
          assertThat(r.hasFile()).as("only the first message describes the file").isFalse();
        }
        assertThat(r.getData().size()).isLessThanOrEqualTo(64 * 1024);
        assertThat(r.getOffset()).as("chunks arrive in offset order")
            .isEqualTo(request.getOffset() + d.bytes);
        r.getData().asReadOnlyByteBufferList().forEach(d.digest::update);
        if (d.received.size() < 64 * 1024) {
          r.getData().writeTo(d.received);
        }
        d.bytes += r.getData().size();
        d.messages++;
      }
    } catch (StatusRuntimeException e) {
      d.error = e;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return d;
  }

  interface Call {
    Object run() throws Exception;
  }

  private static StatusRuntimeException expectThrows(Call call) throws Exception {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("expected the call to fail");
  }

  /** The failure of {@code call}, checked to carry the usual details and no host path. */
  private TestHost.Failure failure(Call call) throws Exception {
    TestHost.Failure f = TestHost.failure(expectThrows(call));
    assertSafe(f, host.dataDir);
    return f;
  }

  private static void assertSafe(TestHost.Failure f, Path hostDir) {
    assertThat(f.info()).as("ErrorInfo always attached").isNotNull();
    assertThat(f.info().getDomain()).isEqualTo("paddock.dev");
    assertThat(f.request()).as("RequestInfo always attached").isNotNull();
    assertThat(f.message()).doesNotContain("/proc/").doesNotContain(hostDir.toString())
        .doesNotContain("Exception");
  }

  private static TestHost.Failure assertInvalid(TestHost.Failure f, String field) {
    assertThat(f).as("a failure").isNotNull();
    assertThat(f.code()).as(f.message()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(f.info().getReason()).isEqualTo("INVALID_ARGUMENT");
    assertThat(f.info().getMetadataMap()).containsEntry("field", field);
    assertThat(f.badRequest().getFieldViolations(0).getField()).isEqualTo(field);
    return f;
  }

  private static void assertFileNotFound(TestHost.Failure f) {
    assertThat(f.code()).as(f.message()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(f.info().getReason()).isEqualTo("FILE_NOT_FOUND");
    assertThat(f.info().getMetadataMap()).containsKey("path");
  }

  private static List<String> quotaSubjects(StatusRuntimeException e) throws Exception {
    List<String> subjects = new ArrayList<>();
    for (Any d : StatusProto.fromThrowable(e).getDetailsList()) {
      if (d.is(QuotaFailure.class)) {
        d.unpack(QuotaFailure.class).getViolationsList().forEach(v -> subjects.add(v.getSubject()));
      }
    }
    return subjects;
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** SHA-256 of bytes [offset, offset + length) of {@code source}. */
  private static String sha256(InputStream source, long offset, int length) throws IOException {
    source.skipNBytes(offset);
    return HexFormat.of().formatHex(newSha256().digest(source.readNBytes(length)));
  }

  /**
   * {@code size} pseudo-random bytes made on the fly (never held whole), hashed as they are read:
   * a 100 MB upload costs the test one chunk of memory.
   */
  private static final class Generated extends InputStream {
    final MessageDigest digest = newSha256();
    private final long size;
    private long state;
    long produced;

    Generated(long size, long seed) {
      this.size = size;
      this.state = seed;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (produced >= size) {
        return -1;
      }
      int n = (int) Math.min(len, size - produced);
      for (int i = 0; i < n; i++) {
        state = state * 6364136223846793005L + 1442695040888963407L;
        b[off + i] = (byte) (state >>> 56);
      }
      digest.update(b, off, n);
      produced += n;
      return n;
    }
  }
}
