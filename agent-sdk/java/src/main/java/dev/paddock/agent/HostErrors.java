package dev.paddock.agent;

import dev.paddock.ipc.agent.v1.IpcErrorReason;
import java.util.Map;

/** Turns the host's {@code Error} reply into the exception of its reason. */
final class HostErrors {
  private HostErrors() {}

  /**
   * The exception for an {@code Error} reply.
   *
   * @param error the reply's {@code error} field
   * @return the subclass for its reason; a plain {@link AgentException} for a reason this SDK does
   *     not know (or the never-sent UNSPECIFIED)
   */
  static AgentException toException(dev.paddock.ipc.agent.v1.Error error) {
    String message = error.getMessage();
    Map<String, String> metadata = error.getMetadataMap();
    switch (error.getReason()) {
      case IPC_ERROR_INVALID_ARGUMENT:
        return new InvalidArgumentException(message, metadata);
      case IPC_ERROR_PERMISSION_DENIED:
        return new PermissionDeniedException(message, metadata);
      case IPC_ERROR_NOT_FOUND:
        return new NotFoundException(message, metadata);
      case IPC_ERROR_ALREADY_EXISTS:
        return new AlreadyExistsException(message, metadata);
      case IPC_ERROR_PAYLOAD_TOO_LARGE:
        return new PayloadTooLargeException(message, metadata);
      case IPC_ERROR_RESOURCE_EXHAUSTED:
        return new ResourceExhaustedException(message, metadata);
      case IPC_ERROR_RATE_LIMITED:
        return new RateLimitedException(message, metadata);
      case IPC_ERROR_WORKSPACE_FULL:
        return new WorkspaceFullException(message, metadata);
      case IPC_ERROR_NOT_AVAILABLE:
        return new NotAvailableException(message, metadata);
      case IPC_ERROR_UNKNOWN_REQUEST:
        return new UnknownRequestException(message, metadata);
      case IPC_ERROR_FAILED_PRECONDITION:
        return new FailedPreconditionException(message, metadata);
      case IPC_ERROR_INTERNAL:
        return new InternalException(message, metadata);
      case IPC_ERROR_DEADLINE_EXCEEDED:
        return new DeadlineExceededException(message, metadata);
      default:
        // UNRECOGNIZED (a newer host's reason) becomes UNSPECIFIED: the enum has no value for it.
        IpcErrorReason reason =
            error.getReason() == IpcErrorReason.UNRECOGNIZED ? null : error.getReason();
        return new AgentException(reason, message, metadata);
    }
  }
}
