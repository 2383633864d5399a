package dev.paddock.runtime.tenant;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a tenants file as a whole and reports every problem at once, each with its line and field
 * (e.g. {@code tenants.yaml:7: tenants[0].maxSessions: must be a whole number}): unknown fields,
 * values of the wrong type, and every rule of {@link TenantsFile#validate}. Used by the host at start
 * and on each reload, and by {@code paddock config check}.
 */
final class TenantsFileCheck {
  /** One problem: the field (a JSON pointer such as /tenants/0/keys/1/scopes/0), its line (0 = unknown), why. */
  record Problem(String pointer, int line, String message) {
    /** {@code file:line: field: message}. */
    String describe(String file) {
      String field = pointer.isEmpty() ? "" : fieldName(pointer) + ": ";
      return file + (line > 0 ? ":" + line : "") + ": " + field + message;
    }
  }

  /** The document if it could be read (possibly partly: bad fields are left out), and every problem. */
  record Result(TenantsFile.Document document, List<Problem> problems) {}

  private static final Set<String> TOP = Set.of("tenants", "host");
  private static final Map<String, Kind> TENANT = Map.ofEntries(Map.entry("id", Kind.TEXT),
      Map.entry("maxSessions", Kind.INT), Map.entry("maxExecs", Kind.INT), Map.entry("memoryBytes", Kind.LONG),
      Map.entry("maxProcesses", Kind.INT), Map.entry("cpuMillicores", Kind.INT), Map.entry("sessionsPerMinute", Kind.INT),
      Map.entry("execsPerMinute", Kind.INT), Map.entry("maxSessionLifetime", Kind.TEXT),
      Map.entry("maxOutputBytes", Kind.LONG), Map.entry("clientCertificates", Kind.TEXT_LIST), Map.entry("keys", Kind.LIST),
      Map.entry("egress", Kind.MAP), Map.entry("browser", Kind.MAP));
  private static final Map<String, Kind> EGRESS = Map.of("allow", Kind.TEXT_LIST, "deny", Kind.TEXT_LIST,
      "maxConnections", Kind.INT, "bytesPerSecond", Kind.LONG, "secretHeaders", Kind.LIST);
  private static final Map<String, Kind> BROWSER = Map.of("maxOpen", Kind.INT, "scripts", Kind.BOOL,
      "minutesPerDay", Kind.INT, "providers", Kind.TEXT_LIST, "failover", Kind.BOOL, "formSecrets", Kind.LIST);
  private static final Map<String, Kind> FORM_SECRET = Map.of("secret", Kind.TEXT, "origin", Kind.TEXT);
  private static final Map<String, Kind> SECRET_HEADER = Map.of("secret", Kind.TEXT, "host", Kind.TEXT, "header", Kind.TEXT,
      "prefix", Kind.TEXT, "scheme", Kind.TEXT);
  private static final Map<String, Kind> KEY = Map.of("id", Kind.TEXT, "name", Kind.TEXT, "sha256", Kind.TEXT,
      "created", Kind.TEXT, "revoked", Kind.TEXT, "scopes", Kind.TEXT_LIST);

  private enum Kind { TEXT, INT, LONG, BOOL, LIST, TEXT_LIST, MAP }

  private TenantsFileCheck() {}

  /** Checks each entry of {@code list} (at {@code at}) against {@code fields}; one that is not a mapping is left out. */
  private static void mappings(JsonNode list, String at, Map<String, Kind> fields, List<Problem> problems,
      Map<String, Integer> lines) {
    for (int i = 0; list != null && i < list.size(); i++) {
      String entryAt = at + "/" + i;
      if (list.get(i) instanceof ObjectNode entry) {
        typed(entry, entryAt, fields, problems, lines);
      } else {
        problems.add(new Problem(entryAt, line(lines, entryAt), "must be a mapping"));
        ((ArrayNode) list).set(i, com.fasterxml.jackson.databind.node.NullNode.getInstance());
      }
    }
  }

  static Result check(ObjectMapper yaml, String text) {
    List<Problem> problems = new ArrayList<>();
    JsonNode tree;
    try {
      tree = yaml.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      // Only the parser's first line: the rest quotes the file, which may hold a key pasted in by mistake.
      String why = String.valueOf(e.getOriginalMessage()).split("\n")[0];
      problems.add(new Problem("", at == null ? 0 : at.getLineNr(), "not valid YAML: " + why));
      return new Result(null, problems);
    }
    Map<String, Integer> lines = lines(yaml, text);
    if (tree == null || !tree.isObject()) {
      problems.add(new Problem("", 1, "must be a mapping with 'tenants'"));
      return new Result(null, problems);
    }
    ObjectNode root = (ObjectNode) tree.deepCopy();
    unknownFields(root, "", TOP, problems, lines);
    JsonNode host = root.get("host");
    if (host != null && !host.isNull()) {
      if (!host.isObject() || !allValues(host)) {
        problems.add(new Problem("/host", line(lines, "/host"), "must be a mapping of settings to values"));
        root.remove("host");
      } else {
        Map<String, String> section = new java.util.LinkedHashMap<>();
        host.fields().forEachRemaining(f -> section.put(f.getKey(), f.getValue().asText()));
        List<Problem> bad = HostSettingsSection.check("/host", section, lines, TenantsFileCheck::line);
        problems.addAll(bad);
        if (!bad.isEmpty()) {
          root.remove("host");
        }
      }
    }
    JsonNode tenants = root.get("tenants");
    if (tenants != null && !tenants.isArray()) {
      problems.add(new Problem("/tenants", line(lines, "/tenants"), "must be a list"));
      root.remove("tenants");
    } else if (tenants != null) {
      for (int i = 0; i < tenants.size(); i++) {
        String at = "/tenants/" + i;
        if (!tenants.get(i).isObject()) {
          if (!tenants.get(i).isNull()) {
            problems.add(new Problem(at, line(lines, at), "must be a mapping"));
            ((ArrayNode) tenants).set(i, com.fasterxml.jackson.databind.node.NullNode.getInstance());
          }
          continue;
        }
        ObjectNode tenant = (ObjectNode) tenants.get(i);
        typed(tenant, at, TENANT, problems, lines);
        JsonNode keys = tenant.get("keys");
        for (int k = 0; keys != null && k < keys.size(); k++) {
          String keyAt = at + "/keys/" + k;
          if (!keys.get(k).isObject()) {
            if (!keys.get(k).isNull()) {
              problems.add(new Problem(keyAt, line(lines, keyAt), "must be a mapping"));
              ((ArrayNode) keys).set(k, com.fasterxml.jackson.databind.node.NullNode.getInstance());
            }
            continue;
          }
          typed((ObjectNode) keys.get(k), keyAt, KEY, problems, lines);
        }
        if (tenant.get("browser") instanceof ObjectNode browser) {
          typed(browser, at + "/browser", BROWSER, problems, lines);
          mappings(browser.get("formSecrets"), at + "/browser/formSecrets", FORM_SECRET, problems, lines);
        }
        if (tenant.get("egress") instanceof ObjectNode egress) {
          typed(egress, at + "/egress", EGRESS, problems, lines);
          mappings(egress.get("secretHeaders"), at + "/egress/secretHeaders", SECRET_HEADER, problems, lines);
        }
      }
    }
    TenantsFile.Document doc;
    try {
      doc = yaml.copy().disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .treeToValue(root, TenantsFile.Document.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      problems.add(new Problem("", 0, "cannot be read: " + e.getMessage()));
      return new Result(null, problems);
    }
    Set<String> reported = new java.util.HashSet<>();
    problems.forEach(p -> reported.add(p.pointer()));
    for (Problem p : TenantsFile.validate(doc)) {
      if (!reported.contains(p.pointer())) { // a field found wrong above is not reported twice
        problems.add(new Problem(p.pointer(), line(lines, p.pointer()), p.message()));
      }
    }
    return new Result(doc, problems);
  }

  /** Checks the fields of {@code node} against {@code known}; removes the bad ones so the rest can be read. */
  private static void typed(ObjectNode node, String at, Map<String, Kind> known, List<Problem> problems,
      Map<String, Integer> lines) {
    unknownFields(node, at, known.keySet(), problems, lines);
    for (Map.Entry<String, Kind> f : known.entrySet()) {
      JsonNode value = node.get(f.getKey());
      if (value == null) {
        continue;
      }
      if (value.isNull()) {
        // "revoked:" with nothing after it reads as no revocation: say so rather than let the key work.
        problems.add(new Problem(at + "/" + f.getKey(), line(lines, at + "/" + f.getKey()),
            "has no value (remove the line, or give one)"));
        node.remove(f.getKey());
        continue;
      }
      String fieldAt = at + "/" + f.getKey();
      String wrong = switch (f.getValue()) {
        case TEXT -> value.isValueNode() && !value.isContainerNode() ? null : "must be a single value";
        case INT -> value.isIntegralNumber() && value.canConvertToInt() ? null : "must be a whole number up to 2147483647";
        case LONG -> value.isIntegralNumber() && value.canConvertToLong() ? null : "must be a whole number";
        case BOOL -> value.isBoolean() ? null : "must be true or false";
        case LIST -> value.isArray() ? null : "must be a list";
        case TEXT_LIST -> value.isArray() && allValues(value) ? null : "must be a list of names";
        case MAP -> value.isObject() ? null : "must be a mapping";
      };
      if (wrong != null) {
        problems.add(new Problem(fieldAt, line(lines, fieldAt), wrong));
        node.remove(f.getKey());
      }
    }
  }

  private static boolean allValues(JsonNode list) {
    for (JsonNode n : list) {
      if (!n.isValueNode()) {
        return false;
      }
    }
    return true;
  }

  private static void unknownFields(ObjectNode node, String at, Set<String> known, List<Problem> problems,
      Map<String, Integer> lines) {
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!known.contains(name)) {
        unknown.add(name);
      }
    }
    for (String name : unknown) {
      String fieldAt = at + "/" + name;
      problems.add(new Problem(fieldAt, line(lines, fieldAt), "unknown field (known: " + String.join(", ",
          known.stream().sorted().toList()) + ")"));
      node.remove(name);
    }
  }

  /** Each field's and each list element's line, by JSON pointer, from a streaming pass. */
  private static Map<String, Integer> lines(ObjectMapper yaml, String text) {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = yaml.getFactory().createParser(text)) {
      JsonToken token;
      while ((token = p.nextToken()) != null) {
        if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
          continue;
        }
        lines.putIfAbsent(p.getParsingContext().pathAsPointer().toString(), p.currentTokenLocation().getLineNr());
      }
    } catch (IOException e) {
      // the tree was read already: a pass that stops early only loses line numbers
    }
    return lines;
  }

  /** The line of {@code pointer}, or of its nearest ancestor that has one. */
  private static int line(Map<String, Integer> lines, String pointer) {
    for (String p = pointer; ; p = p.substring(0, p.lastIndexOf('/'))) {
      Integer line = lines.get(p);
      if (line != null) {
        return line;
      }
      if (p.isEmpty()) {
        return 0;
      }
    }
  }

  /** /tenants/0/keys/1/scopes -> tenants[0].keys[1].scopes */
  static String fieldName(String pointer) {
    StringBuilder out = new StringBuilder();
    for (String part : pointer.substring(1).split("/")) {
      if (part.chars().allMatch(Character::isDigit)) {
        out.append('[').append(part).append(']');
      } else {
        out.append(out.length() == 0 ? "" : ".").append(part);
      }
    }
    return out.toString();
  }
}
