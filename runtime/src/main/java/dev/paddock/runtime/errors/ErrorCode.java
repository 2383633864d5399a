package dev.paddock.runtime.errors;

/** The canonical status codes Paddock answers with; the gRPC layer maps them one to one. */
public enum ErrorCode {
  INVALID_ARGUMENT,
  NOT_FOUND,
  ALREADY_EXISTS,
  UNAUTHENTICATED,
  PERMISSION_DENIED,
  FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED,
  UNAVAILABLE,
  UNIMPLEMENTED,
  DEADLINE_EXCEEDED,
  INTERNAL
}
