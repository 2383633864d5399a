package dev.paddock.agent;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import dev.paddock.ipc.agent.v1.ArtifactReply;
import dev.paddock.ipc.agent.v1.ArtifactRequest;
import dev.paddock.ipc.agent.v1.CallToolRequest;
import dev.paddock.ipc.agent.v1.Envelope;
import dev.paddock.ipc.agent.v1.KvDeleteRequest;
import dev.paddock.ipc.agent.v1.KvGetReply;
import dev.paddock.ipc.agent.v1.KvGetRequest;
import dev.paddock.ipc.agent.v1.KvListRequest;
import dev.paddock.ipc.agent.v1.KvPutRequest;
import dev.paddock.ipc.agent.v1.ListFilesRequest;
import dev.paddock.ipc.agent.v1.PingRequest;
import dev.paddock.ipc.agent.v1.ProgressRequest;
import dev.paddock.ipc.agent.v1.ReadFileReply;
import dev.paddock.ipc.agent.v1.ReadFileRequest;
import dev.paddock.ipc.agent.v1.WriteFileRequest;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The IPC channel from a tool inside a Paddock jail to the host: progress events and artifacts for
 * the planner, workspace files, the session's scratch key-value state, and host-side tools.
 *
 * <pre>{@code
 * try (Agent agent = Agent.connect()) {
 *   agent.progress("fetching", 0.1);
 *   byte[] input = agent.readFile("in/data.csv");
 *   agent.artifact("report.txt", result, "text/plain");
 * }
 * }</pre>
 *
 * <p>Each method sends one request (a few loop over several, as documented) and blocks until the
 * host answers it. Failures are unchecked: an {@link AgentException} subclass per reason the host
 * gives (see {@link AgentException}), {@link ChannelClosedException} when the channel is gone, and
 * {@link ProtocolException} for a reply of the wrong type. A {@code null} argument where none is
 * allowed throws {@link NullPointerException}.
 *
 * <p>Thread-safe: any number of threads may call at once; their requests are pipelined on the one
 * channel and the host may answer them in any order. No thread of its own is started: a calling
 * thread reads replies for itself and for the others while its own is outstanding. Calls are not
 * interruptible (the request is out and its reply will come); an interrupt stays set on the
 * thread. Paths are relative to /workspace, with {@code "/"} separators and no {@code ".."}.
 */
public final class Agent implements AutoCloseable {
  /** The environment variable with the channel's descriptor number (the host sets it to 3). */
  public static final String FD_ENV = "PADDOCK_IPC_FD";
  /** The environment variable with the frame limit, bytes; 4194304 when not set. */
  public static final String MAX_FRAME_ENV = "PADDOCK_IPC_MAX_FRAME";

  static final String START_WITH_IPC = "the exec must be started with ExecRequest.ipc = true";

  /** The largest byte[] a JVM allocates reliably. */
  private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

  private final Channel channel;

  /**
   * An agent on the given streams; the seam for tests.
   *
   * @param in frames from the host
   * @param out frames to the host
   * @param maxFrame frame limit, bytes
   */
  Agent(InputStream in, OutputStream out, int maxFrame) {
    this.channel = new Channel(in, out, maxFrame);
  }

  /**
   * Connects to the channel the host handed to this process: the descriptor named by {@code
   * PADDOCK_IPC_FD} (3 in every Paddock exec started with IPC), with the frame limit of {@code
   * PADDOCK_IPC_MAX_FRAME} (default 4194304 bytes). Sends nothing. One agent per process is the
   * intended use; two on the same descriptor would read each other's replies.
   *
   * @return the agent; close it when done (that closes the descriptor)
   * @throws NoChannelException if {@code PADDOCK_IPC_FD} is not set or does not name an open
   *     socket: the exec was started without {@code ExecRequest.ipc = true}
   */
  public static Agent connect() {
    return connect(System.getenv());
  }

  /** {@link #connect()} reading the given environment instead of the process's. */
  static Agent connect(Map<String, String> env) {
    String fdText = env.get(FD_ENV);
    if (fdText == null || fdText.isBlank()) {
      throw new NoChannelException(FD_ENV + " is not set, so this process has no IPC channel: "
          + START_WITH_IPC, null);
    }
    int fd;
    try {
      fd = Integer.parseInt(fdText.trim());
    } catch (NumberFormatException e) {
      throw new NoChannelException(FD_ENV + " is \"" + fdText + "\", not a descriptor number: "
          + START_WITH_IPC, e);
    }
    FileDescriptor descriptor = InheritedFd.adopt(fd);
    return new Agent(
        new FileInputStream(descriptor), new FileOutputStream(descriptor), maxFrame(env.get(MAX_FRAME_ENV)));
  }

  /** The frame limit from its variable; the default when it is missing or not a positive number. */
  static int maxFrame(String text) {
    if (text == null || text.isBlank()) {
      return Framing.DEFAULT_MAX_FRAME;
    }
    try {
      long value = Long.parseLong(text.trim());
      return value > 0 ? (int) Math.min(value, MAX_ARRAY_BYTES) : Framing.DEFAULT_MAX_FRAME;
    } catch (NumberFormatException e) {
      return Framing.DEFAULT_MAX_FRAME;
    }
  }

  /**
   * The frame limit: the largest serialized request this agent sends, and the largest reply it
   * accepts. Requests carrying bytes ({@link #artifact}, {@link #writeFile(String, byte[])}) must
   * fit in it with a few hundred bytes to spare.
   *
   * @return the limit, bytes (4194304 by default)
   */
  public int maxFrameBytes() {
    return channel.maxFrame();
  }

  /**
   * Does nothing on the host; for health checks and round-trip measurements.
   *
   * @throws AgentException if the host fails it or the channel is gone
   */
  public void ping() {
    call(Envelope.newBuilder().setPing(PingRequest.getDefaultInstance()), Envelope.BodyCase.PONG);
  }

  /**
   * Records a progress event for the planner, with no fraction (progress unknown).
   *
   * @param message what the tool is doing, e.g. "fetched 3 of 10 pages"; at most 4096 bytes of
   *     UTF-8 ({@link PayloadTooLargeException} past that); may be empty
   * @return the event's position among this exec's progress and artifact events, from 0
   * @throws AgentException if the host refuses it or the channel is gone
   */
  public long progress(String message) {
    return progress(ProgressRequest.newBuilder().setMessage(Objects.requireNonNull(message, "message")));
  }

  /**
   * Records a progress event for the planner.
   *
   * @param message what the tool is doing; at most 4096 bytes of UTF-8; may be empty
   * @param fraction how far along, 0.0 to 1.0 ({@link InvalidArgumentException} for anything else,
   *     NaN included)
   * @return the event's position among this exec's progress and artifact events, from 0
   * @throws AgentException if the host refuses it or the channel is gone
   */
  public long progress(String message, double fraction) {
    return progress(ProgressRequest.newBuilder()
        .setMessage(Objects.requireNonNull(message, "message"))
        .setFraction(fraction));
  }

  private long progress(ProgressRequest.Builder request) {
    return call(Envelope.newBuilder().setProgress(request), Envelope.BodyCase.PROGRESS_RECORDED)
        .getProgressRecorded()
        .getSequence();
  }

  /**
   * Records an artifact with the given content for the planner, who can download it while the
   * session lives.
   *
   * @param name unique within the exec: 1-255 characters from {@code [A-Za-z0-9._-]}, not "." or
   *     ".." ({@link AlreadyExistsException} if this exec used it already)
   * @param data the content; the whole request must fit in {@link #maxFrameBytes()}
   * @param contentType MIME type, e.g. "application/pdf"; {@code null} or "" means
   *     "application/octet-stream"; at most 255 bytes
   * @return what the host stored
   * @throws AgentException if the host refuses it (for example {@link ResourceExhaustedException}
   *     past the exec's artifact budget) or the channel is gone
   */
  public ArtifactInfo artifact(String name, byte[] data, String contentType) {
    return artifact(ArtifactRequest.newBuilder()
        .setName(Objects.requireNonNull(name, "name"))
        .setData(ByteString.copyFrom(Objects.requireNonNull(data, "data")))
        .setContentType(contentType == null ? "" : contentType));
  }

  /**
   * Records a copy of a workspace file, taken now, as an artifact for the planner. Later changes
   * to the file do not change the artifact.
   *
   * @param name unique within the exec, as for {@link #artifact(String, byte[], String)}
   * @param workspacePath a regular file, relative to /workspace (e.g. "out/report.pdf"); at most
   *     67108864 bytes (64 MiB)
   * @param contentType MIME type; {@code null} or "" means "application/octet-stream"
   * @return what the host stored
   * @throws AgentException if the host refuses it ({@link NotFoundException} for a missing file,
   *     among others) or the channel is gone
   */
  public ArtifactInfo artifactFromWorkspace(String name, String workspacePath, String contentType) {
    return artifact(ArtifactRequest.newBuilder()
        .setName(Objects.requireNonNull(name, "name"))
        .setWorkspacePath(Objects.requireNonNull(workspacePath, "workspacePath"))
        .setContentType(contentType == null ? "" : contentType));
  }

  private ArtifactInfo artifact(ArtifactRequest.Builder request) {
    ArtifactReply reply =
        call(Envelope.newBuilder().setArtifact(request), Envelope.BodyCase.ARTIFACT_RECORDED)
            .getArtifactRecorded();
    return new ArtifactInfo(reply.getSequence(), reply.getSizeBytes(), reply.getSha256());
  }

  /**
   * Reads a whole workspace file, in as many requests as it takes (each reply carries at most the
   * frame limit minus 1 KiB). If the file changes meanwhile, the result may mix old and new bytes.
   *
   * @param path the file, relative to /workspace; symlinks leading outside it are refused
   * @return its content
   * @throws NotFoundException if it does not exist
   * @throws FailedPreconditionException if it is a directory
   * @throws PayloadTooLargeException if it is over 2147483639 bytes (a Java array's limit)
   * @throws AgentException for other refusals, or if the channel is gone
   */
  public byte[] readFile(String path) {
    return read(path, 0, Long.MAX_VALUE);
  }

  /**
   * Reads part of a workspace file, in as many requests as it takes.
   *
   * @param path the file, relative to /workspace
   * @param offset first byte to read, 0 or more
   * @param length bytes to read at most, 0 or more (0 reads nothing and sends nothing)
   * @return the bytes from {@code offset}: {@code length} of them, or fewer where the file ends
   * @throws IllegalArgumentException if {@code offset} or {@code length} is negative
   * @throws AgentException as for {@link #readFile(String)}
   */
  public byte[] readFile(String path, long offset, long length) {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("offset and length must be 0 or more, not " + offset + " and " + length);
    }
    return read(path, offset, length);
  }

  private byte[] read(String path, long offset, long length) {
    Objects.requireNonNull(path, "path");
    ByteString content = ByteString.EMPTY;
    long remaining = length;
    while (remaining > 0) {
      ReadFileRequest.Builder request = ReadFileRequest.newBuilder()
          .setPath(path)
          .setOffset(offset + content.size())
          // 0 = as much as one reply holds.
          .setLength(remaining == Long.MAX_VALUE ? 0 : remaining);
      ReadFileReply reply =
          call(Envelope.newBuilder().setReadFile(request), Envelope.BodyCase.FILE_DATA).getFileData();
      ByteString data = reply.getData();
      if ((long) content.size() + data.size() > MAX_ARRAY_BYTES) {
        throw new PayloadTooLargeException(
            path + " is over " + MAX_ARRAY_BYTES + " bytes, more than one byte[] holds; read it in parts",
            Map.of("field", "path", "limitBytes", Long.toString(MAX_ARRAY_BYTES)));
      }
      content = content.concat(data);
      if (remaining != Long.MAX_VALUE) {
        remaining -= data.size();
      }
      if (reply.getEof()) {
        break;
      }
      if (data.isEmpty()) {
        throw new ProtocolException("the host answered a read of " + path + " with no bytes and no end of file", null);
      }
    }
    if (content.size() > length) {
      content = content.substring(0, (int) length); // a host that sent more than asked
    }
    return content.toByteArray();
  }

  /**
   * Writes a workspace file, replacing an existing one, with mode 0644 for a new file; its parent
   * directory must exist.
   *
   * @param path the file, relative to /workspace
   * @param data the content; the whole request must fit in {@link #maxFrameBytes()}
   * @return the size of the file written, bytes
   * @throws NotFoundException if the parent directory does not exist
   * @throws WorkspaceFullException if the workspace is full
   * @throws AgentException for other refusals, or if the channel is gone
   */
  public long writeFile(String path, byte[] data) {
    return writeFile(path, data, WriteOptions.DEFAULTS);
  }

  /**
   * Writes a workspace file, as the jail's user, through the same checks as the host API's file
   * service.
   *
   * @param path the file, relative to /workspace
   * @param data the content; the whole request must fit in {@link #maxFrameBytes()}
   * @param options mode, parent creation, create-only (see {@link WriteOptions})
   * @return the size of the file written, bytes
   * @throws AlreadyExistsException if {@code createOnly} is set and the path exists
   * @throws AgentException as for {@link #writeFile(String, byte[])}
   */
  public long writeFile(String path, byte[] data, WriteOptions options) {
    Objects.requireNonNull(options, "options");
    WriteFileRequest.Builder request = WriteFileRequest.newBuilder()
        .setPath(Objects.requireNonNull(path, "path"))
        .setData(ByteString.copyFrom(Objects.requireNonNull(data, "data")))
        .setMode(options.mode())
        .setMakeParents(options.makeParents())
        .setCreateOnly(options.createOnly());
    return call(Envelope.newBuilder().setWriteFile(request), Envelope.BodyCase.FILE_WRITTEN)
        .getFileWritten()
        .getSizeBytes();
  }

  /**
   * Lists one workspace directory, not recursively. The host returns at most 10000 entries, the
   * first by name; a larger directory is cut there.
   *
   * @param path the directory, relative to /workspace; "" is the workspace itself
   * @return the entries, sorted by name
   * @throws NotFoundException if it does not exist
   * @throws FailedPreconditionException if it is not a directory
   * @throws AgentException for other refusals, or if the channel is gone
   */
  public List<FileEntry> listFiles(String path) {
    ListFilesRequest.Builder request = ListFilesRequest.newBuilder().setPath(Objects.requireNonNull(path, "path"));
    List<dev.paddock.ipc.agent.v1.FileEntry> entries =
        call(Envelope.newBuilder().setListFiles(request), Envelope.BodyCase.FILE_LIST)
            .getFileList()
            .getEntriesList();
    List<FileEntry> result = new ArrayList<>(entries.size());
    for (dev.paddock.ipc.agent.v1.FileEntry entry : entries) {
      result.add(new FileEntry(
          entry.getPath(), entry.getDirectory(), entry.getSymlink(), entry.getSizeBytes(), entry.getMode()));
    }
    return List.copyOf(result);
  }

  /**
   * Reads one key of the session's scratch state: a small key-value map shared by all execs of the
   * session, kept in the host's memory until the session closes.
   *
   * @param key 1-256 bytes of UTF-8
   * @return the value, or empty if the key is not set
   * @throws AgentException if the host refuses it or the channel is gone
   */
  public Optional<byte[]> kvGet(String key) {
    KvGetReply reply = call(
            Envelope.newBuilder().setKvGet(KvGetRequest.newBuilder().setKey(Objects.requireNonNull(key, "key"))),
            Envelope.BodyCase.KV_VALUE)
        .getKvValue();
    return reply.getFound() ? Optional.of(reply.getValue().toByteArray()) : Optional.empty();
  }

  /**
   * Sets one key of the session's scratch state.
   *
   * @param key 1-256 bytes of UTF-8
   * @param value at most 65536 bytes
   * @throws ResourceExhaustedException past the session's 1024 keys or 4 MiB of keys and values
   * @throws AgentException for other refusals, or if the channel is gone
   */
  public void kvPut(String key, byte[] value) {
    call(Envelope.newBuilder().setKvPut(KvPutRequest.newBuilder()
            .setKey(Objects.requireNonNull(key, "key"))
            .setValue(ByteString.copyFrom(Objects.requireNonNull(value, "value")))),
        Envelope.BodyCase.KV_STORED);
  }

  /**
   * Removes one key of the session's scratch state.
   *
   * @param key the key
   * @return true if the key was set
   * @throws AgentException if the host refuses it or the channel is gone
   */
  public boolean kvDelete(String key) {
    return call(
            Envelope.newBuilder().setKvDelete(KvDeleteRequest.newBuilder().setKey(Objects.requireNonNull(key, "key"))),
            Envelope.BodyCase.KV_DELETED)
        .getKvDeleted()
        .getExisted();
  }

  /**
   * Lists keys of the session's scratch state.
   *
   * @param prefix only keys starting with this; "" or {@code null} for all
   * @return the keys, sorted
   * @throws AgentException if the host refuses it or the channel is gone
   */
  public List<String> kvList(String prefix) {
    return List.copyOf(call(
            Envelope.newBuilder().setKvList(KvListRequest.newBuilder().setPrefix(prefix == null ? "" : prefix)),
            Envelope.BodyCase.KV_KEYS)
        .getKvKeys()
        .getKeysList());
  }

  /**
   * Calls a host-side tool (browser actions, secret-backed calls). In this protocol version the
   * host answers every tool with {@link NotAvailableException} (metadata "tool").
   *
   * @param name the tool, 1-128 characters from {@code [A-Za-z0-9._-]}
   * @param arguments its arguments; {@code null} means none
   * @return the tool's result
   * @throws NotFoundException if there is no such tool
   * @throws AgentException for other refusals, or if the channel is gone
   */
  public Struct callTool(String name, Struct arguments) {
    CallToolRequest.Builder request = CallToolRequest.newBuilder()
        .setName(Objects.requireNonNull(name, "name"))
        .setArguments(arguments == null ? Struct.getDefaultInstance() : arguments);
    return call(Envelope.newBuilder().setCallTool(request), Envelope.BodyCase.TOOL_RESULT)
        .getToolResult()
        .getResult();
  }

  /**
   * Starts a browser for this exec's session (needs the session policy's "browser" operation).
   *
   * @param provider a preferred provider; "" or {@code null} for the tenant's order
   * @throws ResourceExhaustedException past the tenant's or session's browser limit, or its browser-minutes
   * @throws NotAvailableException when no provider can serve now (metadata "retryAfterMillis")
   * @throws AgentException for other refusals, or if the channel is gone
   */
  public AgentBrowser openBrowser(String provider) {
    dev.paddock.ipc.agent.v1.BrowserReply opened = browser(dev.paddock.ipc.agent.v1.BrowserRequest.newBuilder()
        .setOpen(dev.paddock.ipc.agent.v1.BrowserOpen.newBuilder().setProvider(provider == null ? "" : provider)));
    return new AgentBrowser(this::browser, opened.getBrowserId(), opened.getProvider());
  }

  private dev.paddock.ipc.agent.v1.BrowserReply browser(dev.paddock.ipc.agent.v1.BrowserRequest.Builder request) {
    return call(Envelope.newBuilder().setBrowser(request), Envelope.BodyCase.BROWSER_RESULT).getBrowserResult();
  }

  /**
   * Closes the channel. Later calls throw {@link ChannelClosedException}; calls already sent still
   * get their replies, and the descriptor is closed once the last one is in (at once when none is
   * outstanding). The host sees the channel close; the exec goes on. Idempotent.
   */
  @Override
  public void close() {
    channel.close();
  }

  /** Sends a request and returns the reply of the expected type, else throws. */
  private Envelope call(Envelope.Builder request, Envelope.BodyCase expected) {
    Envelope reply = channel.call(request);
    Envelope.BodyCase got = reply.getBodyCase();
    if (got == expected) {
      return reply;
    }
    if (got == Envelope.BodyCase.ERROR) {
      throw HostErrors.toException(reply.getError());
    }
    throw new ProtocolException(
        "the host answered request " + reply.getId() + " (" + request.getBodyCase() + ") with "
            + got + " instead of " + expected,
        null);
  }
}
