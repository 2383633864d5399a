package dev.paddock.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;

/**
 * Protobuf messages as Jackson trees, following the proto3 JSON mapping (what {@code JsonFormat}
 * and grpcurl print), so the CLI's {@code --json} lines can be read back by any proto3 JSON parser:
 *
 * <ul>
 *   <li>field names in lowerCamelCase ({@code session_id} is {@code sessionId});
 *   <li>fields without presence (scalars, enums, repeated and map fields) are <em>always</em>
 *       printed, defaults included ({@code "exitCode": 0}), so every line of one kind has the same
 *       keys; message fields and oneof members appear only when set;
 *   <li>enums by name ({@code "EXEC_STATUS_OK"}); 64-bit integers as strings ({@code "536870912"}),
 *       32-bit ones as numbers; bytes in standard base64; maps as objects;
 *   <li>{@code google.protobuf.Timestamp} as RFC 3339 in UTC ({@code "2026-11-23T08:46:45.120Z"}),
 *       {@code google.protobuf.Duration} as seconds with an {@code s} ({@code "1.500s"}).
 * </ul>
 *
 * The other well-known types (Any, Struct, wrappers) do not occur in the paddock.v1 messages the CLI
 * prints and are rendered as ordinary messages.
 */
final class ProtoJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ProtoJson() {}

  /** {@code message} as a JSON object (or a string, for a Timestamp or Duration). */
  static JsonNode toJson(MessageOrBuilder message) {
    Descriptor type = message.getDescriptorForType();
    switch (type.getFullName()) {
      case "google.protobuf.Timestamp":
        return NODES.textNode(timestamp(message));
      case "google.protobuf.Duration":
        return NODES.textNode(duration(message));
      default:
        break;
    }
    ObjectNode node = NODES.objectNode();
    for (FieldDescriptor field : type.getFields()) {
      if (field.hasPresence() && !message.hasField(field)) {
        continue;
      }
      node.set(field.getJsonName(), field(field, message.getField(field)));
    }
    return node;
  }

  private static JsonNode field(FieldDescriptor field, Object value) {
    if (field.isMapField()) {
      ObjectNode map = NODES.objectNode();
      FieldDescriptor key = field.getMessageType().findFieldByName("key");
      FieldDescriptor val = field.getMessageType().findFieldByName("value");
      for (Object entry : (List<?>) value) {
        Message e = (Message) entry;
        map.set(scalar(key, e.getField(key)).asText(), scalar(val, e.getField(val)));
      }
      return map;
    }
    if (field.isRepeated()) {
      ArrayNode array = NODES.arrayNode();
      for (Object element : (List<?>) value) {
        array.add(scalar(field, element));
      }
      return array;
    }
    return scalar(field, value);
  }

  private static JsonNode scalar(FieldDescriptor field, Object value) {
    switch (field.getType()) {
      case INT32, SINT32, SFIXED32:
        return NODES.numberNode((Integer) value);
      case UINT32, FIXED32:
        return NODES.numberNode(Integer.toUnsignedLong((Integer) value));
      case INT64, SINT64, SFIXED64:
        return NODES.textNode(Long.toString((Long) value));
      case UINT64, FIXED64:
        return NODES.textNode(Long.toUnsignedString((Long) value));
      case FLOAT:
        return floating((Float) value);
      case DOUBLE:
        return floating((Double) value);
      case BOOL:
        return NODES.booleanNode((Boolean) value);
      case STRING:
        return NODES.textNode((String) value);
      case BYTES:
        return NODES.textNode(Base64.getEncoder().encodeToString(((ByteString) value).toByteArray()));
      case ENUM:
        EnumValueDescriptor e = (EnumValueDescriptor) value;
        return e.getIndex() >= 0 ? NODES.textNode(e.getName()) : NODES.numberNode(e.getNumber());
      case MESSAGE, GROUP:
        return toJson((MessageOrBuilder) value);
      default:
        throw new IllegalStateException("unknown field type " + field.getType());
    }
  }

  private static JsonNode floating(double value) {
    if (Double.isNaN(value)) {
      return NODES.textNode("NaN");
    }
    if (Double.isInfinite(value)) {
      return NODES.textNode(value > 0 ? "Infinity" : "-Infinity");
    }
    return NODES.numberNode(value);
  }

  private static String timestamp(MessageOrBuilder t) {
    long seconds = (Long) get(t, "seconds");
    int nanos = (Integer) get(t, "nanos");
    // ISO_INSTANT prints 0, 3, 6 or 9 fraction digits, as the proto3 mapping asks.
    return DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(seconds, nanos));
  }

  private static String duration(MessageOrBuilder d) {
    long seconds = (Long) get(d, "seconds");
    int nanos = (Integer) get(d, "nanos");
    StringBuilder b = new StringBuilder();
    if (seconds < 0 || nanos < 0) {
      b.append('-');
      seconds = -seconds;
      nanos = -nanos;
    }
    b.append(seconds);
    if (nanos != 0) {
      String digits = String.format("%09d", nanos);
      if (nanos % 1_000_000 == 0) {
        digits = digits.substring(0, 3);
      } else if (nanos % 1_000 == 0) {
        digits = digits.substring(0, 6);
      }
      b.append('.').append(digits);
    }
    return b.append('s').toString();
  }

  private static Object get(MessageOrBuilder m, String field) {
    return m.getField(m.getDescriptorForType().findFieldByName(field));
  }
}
