package dev.paddock.runtime.grpc;

import dev.paddock.runtime.Ids;
import io.grpc.Context;
import io.grpc.Metadata;
import java.util.regex.Pattern;

/** The request id: taken from the caller's {@code x-request-id} header when well-formed, else generated. */
final class RequestIds {
  static final Metadata.Key<String> HEADER = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<String> CONTEXT = dev.paddock.runtime.audit.AuditContext.REQUEST_ID;
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private RequestIds() {}

  /** The caller's id if it is 1-128 characters of [A-Za-z0-9._-]; otherwise a new one with 128 random bits. */
  static String fromHeader(String supplied) {
    return supplied != null && VALID.matcher(supplied).matches() ? supplied : Ids.newId("req");
  }

  /** The id of the call this thread serves. */
  static String current() {
    String id = CONTEXT.get();
    return id == null ? "" : id;
  }
}
