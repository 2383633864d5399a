package dev.paddock.runtime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a client command's results and errors go. Human mode prints text and tables on stdout;
 * {@code --json} mode prints exactly one compact JSON object per line on stdout (UTF-8), protobuf
 * messages in the proto3 JSON mapping ({@link ProtoJson}). Either way errors go to stderr as
 * {@code error: …}; in JSON mode they also go to stdout as {@code {"error": {...}}}. Notes for humans
 * ({@code paddock: …}) go to stderr.
 */
final class Output {
  /** Made on first use: only --json output needs it, and making one costs a plain command a tenth of its time. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }
  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  private final PrintStream out;
  private final PrintStream err;
  private final boolean json;

  Output(PrintStream out, PrintStream err, boolean json) {
    this.out = out;
    this.err = err;
    this.json = json;
  }

  /** True in {@code --json} mode. */
  boolean json() {
    return json;
  }

  /** The raw stdout, for command output bytes. */
  PrintStream stdout() {
    return out;
  }

  /** The raw stderr, for command output bytes. */
  PrintStream stderr() {
    return err;
  }

  /** One JSON line: {@code message} in the proto3 JSON mapping. */
  void json(MessageOrBuilder message) {
    json(ProtoJson.toJson(message));
  }

  /** One JSON line. */
  void json(JsonNode node) {
    byte[] line = toLine(node);
    out.write(line, 0, line.length);
    out.flush();
  }

  /** A new JSON object for the CLI's own small results. */
  static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /** One line of human output on stdout. */
  void line(String text) {
    out.println(text);
    out.flush();
  }

  /** A note for humans on stderr, {@code paddock: text}; kept out of JSON output. */
  void note(String text) {
    err.println("paddock: " + text);
    err.flush();
  }

  /** Reports a failed call, as the client library typed it; returns the exit code for it. */
  int fail(CallError error) {
    err.println(error.human());
    err.flush();
    if (json) {
      json(error.toJson());
    }
    return error.exitCode();
  }

  /** Reports a failure of the CLI itself (no call was refused): {@code {"error": {"message"}}}; returns 120. */
  int fail(String message) {
    err.println("error: " + message);
    err.flush();
    if (json) {
      ObjectNode root = object();
      root.putObject("error").put("message", message);
      json(root);
    }
    return ExecCommand.EXIT_HOST_ERROR;
  }

  /** Prints rows under a header, columns left-aligned and three spaces apart (the last one unpadded). */
  void table(List<String> header, List<List<String>> rows) {
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    rows(all);
  }

  /** Prints rows, columns left-aligned and separated by at least two spaces (the last one unpadded). */
  void rows(List<List<String>> rows) {
    int columns = rows.stream().mapToInt(List::size).max().orElse(0);
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        b.append(row.get(i));
        if (i < row.size() - 1) {
          b.append(" ".repeat(widths[i] - row.get(i).length() + 3));
        }
      }
      out.println(b);
    }
    out.flush();
  }

  /** An enum value's name without its type prefix: {@code SESSION_STATE_ACTIVE} as {@code ACTIVE}. */
  static String shortName(Enum<?> value, String prefix) {
    String name = value.name();
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }

  /** argv as a shell would read it back: words quoted only where needed ({@code sh -c 'echo hi'}). */
  static String shellJoin(List<String> argv) {
    StringBuilder b = new StringBuilder();
    for (String arg : argv) {
      if (b.length() > 0) {
        b.append(' ');
      }
      if (!arg.isEmpty() && SHELL_SAFE.matcher(arg).matches()) {
        b.append(arg);
      } else {
        b.append('\'').append(arg.replace("'", "'\\''")).append('\'');
      }
    }
    return b.toString();
  }

  /** A timestamp for humans: UTC to the second ({@code 2026-11-23T08:46:45Z}); "-" when unset. */
  static String time(boolean set, Timestamp t) {
    if (!set) {
      return "-";
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** {@code node} as one line of UTF-8 with its newline (JSON escapes every newline inside strings). */
  static byte[] toLine(JsonNode node) {
    try {
      return (Json.MAPPER.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
