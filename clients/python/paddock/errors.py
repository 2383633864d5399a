"""Typed errors of a Paddock host.

Every failed call raises a :class:`PaddockError` subclass named after its gRPC code (what to do:
fix the request, wait, retry), carrying the host's reason (``SESSION_NOT_FOUND`` and the other
names of paddock.v1.ErrorReason), its metadata, and the request id that ties it to the host's logs
and audit records. Act on the class and the reason; the message is for people.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import grpc
from google.rpc import error_details_pb2, status_pb2

__all__ = [
    "PaddockError", "InvalidArgument", "NotFound", "AlreadyExists", "PermissionDenied", "Unauthenticated",
    "ResourceExhausted", "FailedPrecondition", "Unavailable", "DeadlineExceeded", "Cancelled", "Unimplemented",
    "FieldViolation",
]


class FieldViolation(Tuple[str, str]):
    """One bad field of an INVALID_ARGUMENT answer: (field, description)."""

    @property
    def field(self) -> str:
        return self[0]

    @property
    def description(self) -> str:
        return self[1]


class PaddockError(Exception):
    """A call the host refused or could not finish."""

    def __init__(self, code: grpc.StatusCode, message: str, reason: str, request_id: str = "",
                 metadata: Optional[Dict[str, str]] = None, retry_after: Optional[float] = None,
                 violations: Optional[List[FieldViolation]] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        #: The host's reason (a paddock.v1.ErrorReason name); the code's name for errors the gRPC
        #: library made itself (host unreachable, deadline passed in the client).
        self.reason = reason
        #: The call's request id (``req_...``); "" when the host did not answer.
        self.request_id = request_id
        #: ErrorInfo.metadata: which session, budget, field...
        self.metadata: Dict[str, str] = dict(metadata or {})
        #: Seconds the host asks callers to wait before trying again (RetryInfo), or None.
        self.retry_after = retry_after
        #: The fields the host found wrong (BadRequest), for INVALID_ARGUMENT.
        self.violations: List[FieldViolation] = list(violations or [])

    def __str__(self) -> str:
        where = f", request {self.request_id}" if self.request_id else ""
        return f"{self.message} ({self.reason}{where})"


class InvalidArgument(PaddockError):
    """The request is wrong (a field, a size, a path): fix it; the same request fails the same way."""


class NotFound(PaddockError):
    """No such session, exec, file or browser for the caller's tenant."""


class AlreadyExists(PaddockError):
    """What the call would create exists already."""


class PermissionDenied(PaddockError):
    """The key lacks a scope, or the tenant's policy forbids the operation."""


class Unauthenticated(PaddockError):
    """No key, or one the host does not know or has revoked."""


class ResourceExhausted(PaddockError):
    """A budget or rate limit of the tenant: wait (``retry_after``) or ask for less."""


class FailedPrecondition(PaddockError):
    """The thing is in the wrong state (a closed session, an ended exec, a lost browser)."""


class Unavailable(PaddockError):
    """The host cannot serve now: retry with backoff."""


class DeadlineExceeded(PaddockError):
    """The call's deadline passed, or a tool's own time limit."""


class Cancelled(PaddockError):
    """The call was cancelled, by this client or by the host on shutdown."""


class Unimplemented(PaddockError):
    """The host does not serve this call or option."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument, grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound, grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied, grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted, grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: FailedPrecondition, grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded, grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
}


def from_rpc_error(error: Any, trailers: Any = None) -> PaddockError:
    """The typed error for a failed call (a grpc.RpcError, sync or asyncio)."""
    code = error.code()
    message = error.details() or code.name
    reason, request_id, metadata, retry_after, violations = code.name, "", {}, None, []
    for key, value in (trailers if trailers is not None else (error.trailing_metadata() or ())):
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason, metadata = info.reason or reason, dict(info.metadata)
                elif detail.Is(error_details_pb2.RequestInfo.DESCRIPTOR):
                    info = error_details_pb2.RequestInfo()
                    detail.Unpack(info)
                    request_id = info.request_id
                elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                    info = error_details_pb2.RetryInfo()
                    detail.Unpack(info)
                    retry_after = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
                elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                    info = error_details_pb2.BadRequest()
                    detail.Unpack(info)
                    violations = [FieldViolation((v.field, v.description)) for v in info.field_violations]
        elif key == "x-request-id" and not request_id:
            request_id = value
    return _BY_CODE.get(code, PaddockError)(code, message, reason, request_id, metadata, retry_after, violations)
