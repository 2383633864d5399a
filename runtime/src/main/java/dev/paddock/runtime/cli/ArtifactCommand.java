package dev.paddock.runtime.cli;

import dev.paddock.ipc.v1.ArtifactChunk;
import dev.paddock.ipc.v1.GetArtifactRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paddock artifact}: downloads an artifact a tool recorded over its IPC channel (GetArtifact). */
@Command(name = "artifact", mixinStandardHelpOptions = true,
    description = {"Downloads an artifact an exec's tool recorded (paddock_agent.artifact / Agent.artifact).",
        "Writes it to stdout, or to FILE with -o (written to a temporary file first, renamed when complete).",
        "With --json and -o: {\"name\", \"sizeBytes\", \"sha256\", \"contentType\", \"path\"}."})
final class ArtifactCommand extends ClientCommand {
  @Option(names = "--session", required = true, paramLabel = "SESSION", description = "Session id of the exec.")
  String sessionId;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write to FILE instead of stdout.")
  Path output;

  @Parameters(index = "0", paramLabel = "EXEC", description = "Exec id that recorded it.")
  String execId;

  @Parameters(index = "1", paramLabel = "NAME", description = "The artifact's name.")
  String name;

  @Override
  int run(Client client) throws IOException {
    Iterator<ArtifactChunk> chunks = client.execStreams().getArtifact(GetArtifactRequest.newBuilder()
        .setSessionId(sessionId).setExecId(execId).setName(name).build());
    Path temp = output == null ? null : Files.createTempFile(output.toAbsolutePath().getParent(), ".paddock-artifact-", "");
    ArtifactChunk first = null;
    try (OutputStream sink = temp == null ? client.out().stdout() : Files.newOutputStream(temp)) {
      while (chunks.hasNext()) {
        ArtifactChunk c = chunks.next();
        if (first == null) {
          first = c;
        }
        c.getData().writeTo(sink);
      }
      sink.flush();
      if (temp != null) {
        Files.move(temp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        temp = null;
      }
    } finally {
      if (temp != null) {
        Files.deleteIfExists(temp);
      }
    }
    if (output != null && client.out().json() && first != null) {
      var a = first.getArtifact();
      client.out().json(Output.object().put("name", a.getName()).put("sizeBytes", a.getSizeBytes())
          .put("sha256", a.getSha256()).put("contentType", a.getContentType()).put("path", output.toString()));
    }
    return 0;
  }
}
