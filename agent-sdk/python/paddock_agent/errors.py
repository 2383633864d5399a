"""Exceptions raised by the Paddock agent SDK.

Every failure the host reports (an ``Error`` reply) is raised as the subclass of
:class:`PaddockError` named after its ``IpcErrorReason``; failures of the channel itself are
:class:`NoChannel`, :class:`ChannelClosed` and :class:`ProtocolError`.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Type


class PaddockError(Exception):
    """A request failed.

    Attributes:
        reason: The ``IpcErrorReason`` name without its ``IPC_ERROR_`` prefix, e.g. ``"NOT_FOUND"``
            (for errors raised by the SDK itself: ``"NO_CHANNEL"``, ``"CHANNEL_CLOSED"``,
            ``"PROTOCOL_ERROR"``).
        message: One sentence for humans, safe to show. Do not parse it.
        metadata: Details named by the reason, e.g. ``{"path": "out/a.txt"}`` for NOT_FOUND.
    """

    reason: str = "UNSPECIFIED"

    def __init__(self, message: str = "", metadata: Optional[Mapping[str, str]] = None,
                 *, reason: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata: Dict[str, str] = dict(metadata or {})
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        details = "".join(f", {k}={v}" for k, v in sorted(self.metadata.items()))
        return f"{self.reason}: {self.message}{details}" if details or self.message else self.reason


class InvalidArgument(PaddockError):
    """A field is missing or malformed (metadata ``field``)."""
    reason = "INVALID_ARGUMENT"


class PermissionDenied(PaddockError):
    """The session's policy does not grant this operation (metadata ``operation``)."""
    reason = "PERMISSION_DENIED"


class NotFound(PaddockError):
    """The file, directory, key or tool does not exist (metadata ``path`` or ``key``)."""
    reason = "NOT_FOUND"


class AlreadyExists(PaddockError):
    """The artifact name or (with ``create_only``) the path is taken (metadata ``name``/``path``)."""
    reason = "ALREADY_EXISTS"


class PayloadTooLarge(PaddockError):
    """A value is over its size limit (metadata ``field``, ``limitBytes``).

    Also raised locally, before anything is sent, for a request whose frame would exceed the
    frame limit (``field`` = ``"frame"``): the host would end the exec for such a frame.
    """
    reason = "PAYLOAD_TOO_LARGE"


class ResourceExhausted(PaddockError):
    """A session or exec budget is used up (metadata ``limit``)."""
    reason = "RESOURCE_EXHAUSTED"


class RateLimited(PaddockError):
    """Over the exec's request rate (metadata ``limitPerSecond``); retry later."""
    reason = "RATE_LIMITED"


class WorkspaceFull(PaddockError):
    """The workspace is full (size or inodes)."""
    reason = "WORKSPACE_FULL"


class NotAvailable(PaddockError):
    """The operation exists but is not available on this host (e.g. ``call_tool``)."""
    reason = "NOT_AVAILABLE"


class UnknownRequest(PaddockError):
    """The host does not know this request (an SDK newer than the host)."""
    reason = "UNKNOWN_REQUEST"


class FailedPrecondition(PaddockError):
    """The path is not what the operation needs (a directory to read, a file to list)."""
    reason = "FAILED_PRECONDITION"


class InternalError(PaddockError):
    """The host failed; the planner's logs have the details."""
    reason = "INTERNAL"


class DeadlineExceeded(PaddockError):
    """The action did not finish within its timeout (a page that never loaded, a script that
    never yielded: it was stopped)."""
    reason = "DEADLINE_EXCEEDED"


class NoChannel(PaddockError):
    """This process has no IPC channel (no ``PADDOCK_IPC_FD``, or it is not a stream socket)."""
    reason = "NO_CHANNEL"


class ChannelClosed(PaddockError):
    """The channel is closed: the host closed it (EOF), or :meth:`close` was called.

    Every call waiting for a reply at that moment gets it, and so does every later call.
    """
    reason = "CHANNEL_CLOSED"


class ProtocolError(ChannelClosed):
    """The host broke the protocol (a bad frame, or a reply of the wrong type); the channel is
    closed, as for :class:`ChannelClosed`."""
    reason = "PROTOCOL_ERROR"


#: The exception class for each reason name.
BY_REASON: Dict[str, Type[PaddockError]] = {
    cls.reason: cls for cls in (
        InvalidArgument, PermissionDenied, NotFound, AlreadyExists, PayloadTooLarge,
        ResourceExhausted, RateLimited, WorkspaceFull, NotAvailable, UnknownRequest,
        FailedPrecondition, InternalError, DeadlineExceeded)
}


def from_reply(reason: str, message: str, metadata: Mapping[str, str]) -> PaddockError:
    """The exception for an ``Error`` reply; an unknown reason gives a plain :class:`PaddockError`."""
    cls = BY_REASON.get(reason)
    if cls is None:
        return PaddockError(message, metadata, reason=reason)
    return cls(message, metadata)
