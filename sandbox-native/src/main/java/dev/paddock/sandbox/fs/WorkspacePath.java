package dev.paddock.sandbox.fs;

import dev.paddock.sandbox.fs.WorkspaceFileException.Kind;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A validated workspace-relative path, checked before any syscall. Rules: "" or "." is the root;
 * otherwise one or more '/'-separated components, each non-empty, not "." or "..", without NUL or
 * control characters (below 0x20, and 0x7f), at most {@value #MAX_NAME_BYTES} bytes of UTF-8;
 * at most {@value #MAX_PATH_BYTES} bytes in all (the kernel's PATH_MAX of 4096 counts the
 * terminating NUL). No leading '/', no empty components (so no "a//b" and no trailing '/').
 */
final class WorkspacePath {
  /** Longest accepted path, in bytes of UTF-8. */
  static final int MAX_PATH_BYTES = 4095;
  /** Longest accepted component, in bytes of UTF-8 (NAME_MAX). */
  static final int MAX_NAME_BYTES = 255;
  private static final byte[] DOT = {'.'};
  private static final WorkspacePath ROOT = new WorkspacePath("", List.of());

  private final String display;
  private final List<byte[]> components;

  private WorkspacePath(String display, List<byte[]> components) {
    this.display = display;
    this.components = components;
  }

  /** Parses and validates {@code raw}; every rule it breaks gives {@link Kind#INVALID_PATH}. */
  static WorkspacePath parse(String raw) throws WorkspaceFileException {
    if (raw == null) {
      throw invalid("", "a path is required");
    }
    if (raw.isEmpty() || raw.equals(".")) {
      return ROOT;
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw invalid(raw, "control characters (including NUL) are not allowed");
      }
    }
    if (raw.startsWith("/")) {
      throw invalid(raw, "the path must be relative to the workspace");
    }
    byte[] utf8 = encode(raw);
    if (utf8.length > MAX_PATH_BYTES) {
      throw invalid(raw, "longer than " + MAX_PATH_BYTES + " bytes");
    }
    List<byte[]> parts = new ArrayList<>();
    for (String part : raw.split("/", -1)) {
      if (part.isEmpty()) {
        throw invalid(raw, "empty path component ('//' or a trailing '/')");
      }
      if (part.equals(".") || part.equals("..")) {
        throw invalid(raw, "'.' and '..' components are not allowed");
      }
      byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
      if (bytes.length > MAX_NAME_BYTES) {
        throw invalid(raw, "a component is longer than " + MAX_NAME_BYTES + " bytes");
      }
      parts.add(bytes);
    }
    return new WorkspacePath(raw, List.copyOf(parts));
  }

  /** The workspace root. */
  static WorkspacePath root() {
    return ROOT;
  }

  /** True for the workspace root ("" or "."). */
  boolean isRoot() {
    return components.isEmpty();
  }

  /** The path as given, canonical ("" for the root); safe to show the tenant. */
  String display() {
    return display;
  }

  /** The components, as UTF-8 bytes. */
  List<byte[]> components() {
    return components;
  }

  /** The last component as bytes; "." for the root. */
  byte[] name() {
    return isRoot() ? DOT.clone() : components.get(components.size() - 1).clone();
  }

  /** The last component as text; "" for the root. */
  String nameText() {
    int slash = display.lastIndexOf('/');
    return slash < 0 ? display : display.substring(slash + 1);
  }

  /** The parent directory as a relative byte path; "." when the parent is the root (or for the root). */
  byte[] parentBytes() {
    if (components.size() <= 1) {
      return DOT.clone();
    }
    return join(components.subList(0, components.size() - 1));
  }

  static byte[] join(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < parts.size(); i++) {
      if (i > 0) {
        out.write('/');
      }
      out.writeBytes(parts.get(i));
    }
    return out.toByteArray();
  }

  /** {@code raw} quoted for a tenant-facing message: control characters replaced, at most 200 chars. */
  static String quote(String raw) {
    StringBuilder b = new StringBuilder("'");
    int n = Math.min(raw.length(), 200);
    for (int i = 0; i < n; i++) {
      char c = raw.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return b.append(raw.length() > n ? "...'" : "'").toString();
  }

  private static byte[] encode(String raw) throws WorkspaceFileException {
    CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      ByteBuffer b = encoder.encode(CharBuffer.wrap(raw));
      return Arrays.copyOfRange(b.array(), b.position(), b.limit());
    } catch (CharacterCodingException e) {
      throw invalid(raw, "not valid Unicode");
    }
  }

  private static WorkspaceFileException invalid(String raw, String why) {
    String shown = quote(raw);
    return new WorkspaceFileException(Kind.INVALID_PATH, shown.substring(1, shown.length() - 1),
        "invalid path " + shown + ": " + why);
  }

  @Override
  public String toString() {
    return display;
  }
}
