"""Framing and plumbing shared by the sync and asyncio channels.

A frame is a 4-byte big-endian length N followed by N bytes, one serialized ``Envelope``.
"""
from __future__ import annotations

import os
import socket
import struct
from typing import Optional

from paddock.ipc.v1 import ipc_pb2

from . import errors

Envelope = ipc_pb2.Envelope

#: The 4-byte big-endian length prefix of every frame.
HEADER = struct.Struct(">I")

#: Frame limit, bytes (not counting the 4 length bytes), when PADDOCK_IPC_MAX_FRAME is unset: 4 MiB.
DEFAULT_MAX_FRAME = 4 * 1024 * 1024

_NEEDS_IPC = ("start the exec with ExecRequest.ipc = true (`paddock exec --ipc`) to get the "
              "Paddock IPC channel")


def max_frame_from_env() -> int:
    """The frame limit in bytes: PADDOCK_IPC_MAX_FRAME if set to a positive integer, else 4 MiB."""
    try:
        value = int(os.environ.get("PADDOCK_IPC_MAX_FRAME", ""))
    except ValueError:
        return DEFAULT_MAX_FRAME
    return value if value > 0 else DEFAULT_MAX_FRAME


def socket_from_env() -> socket.socket:
    """The channel's socket: the fd named by PADDOCK_IPC_FD (default 3 if the variable is set but
    empty). Raises :class:`~paddock_agent.errors.NoChannel` when the variable is missing or the fd
    is not an open stream socket."""
    name = os.environ.get("PADDOCK_IPC_FD")
    if name is None:
        raise errors.NoChannel(f"PADDOCK_IPC_FD is not set: {_NEEDS_IPC}")
    try:
        fd = int(name) if name.strip() else 3
    except ValueError:
        raise errors.NoChannel(f"PADDOCK_IPC_FD={name!r} is not a file descriptor: {_NEEDS_IPC}") from None
    try:
        sock = socket.socket(fileno=fd)
    except OSError as e:
        raise errors.NoChannel(f"fd {fd} (PADDOCK_IPC_FD) is not a socket ({e.strerror}): {_NEEDS_IPC}") from None
    if sock.type != socket.SOCK_STREAM:
        sock.detach()  # not ours to close
        raise errors.NoChannel(f"fd {fd} (PADDOCK_IPC_FD) is not a stream socket: {_NEEDS_IPC}")
    return sock


def encode(envelope: Envelope, max_frame: int) -> bytes:
    """The frame (length prefix + body) for ``envelope``. Raises PayloadTooLarge, sending nothing,
    when the body is over ``max_frame`` bytes (the host would end the exec for it)."""
    body = envelope.SerializeToString()
    if len(body) > max_frame:
        raise errors.PayloadTooLarge(
            f"request of {len(body)} bytes is over the IPC frame limit of {max_frame} bytes; "
            "for big files write them in the workspace and use path= instead of data=",
            {"field": "frame", "limitBytes": str(max_frame), "sizeBytes": str(len(body))})
    return HEADER.pack(len(body)) + body


def check_length(length: int, max_frame: int) -> None:
    """Raises ProtocolError when the host announces a frame over the limit."""
    if length > max_frame:
        raise errors.ProtocolError(f"host sent a frame of {length} bytes, over the limit of {max_frame}")


def decode(body) -> Envelope:
    """Parses one frame body (bytes-like); raises ProtocolError when it is not an Envelope."""
    try:
        return Envelope.FromString(body)
    except Exception as e:  # google.protobuf.message.DecodeError, or worse
        raise errors.ProtocolError(f"host sent a frame that is not an Envelope: {e}") from None


def unwrap(reply: Envelope, expected: str):
    """The reply message in field ``expected`` of ``reply``; raises the PaddockError of an
    ``error`` reply, or ProtocolError for a reply of another type."""
    kind = reply.WhichOneof("body")
    if kind == expected:
        return getattr(reply, kind)
    if kind == "error":
        err = reply.error
        try:
            reason = ipc_pb2.IpcErrorReason.Name(err.reason)[len("IPC_ERROR_"):]
        except ValueError:  # a reason newer than this SDK
            reason = str(err.reason)
        raise errors.from_reply(reason, err.message, err.metadata)
    raise errors.ProtocolError(f"host answered request {reply.id} with {kind!r}, expected {expected!r}")


def closed_error(cause: Optional[BaseException]) -> errors.ChannelClosed:
    """A fresh ChannelClosed (or ProtocolError) for a caller, given what closed the channel."""
    if isinstance(cause, errors.ChannelClosed):
        return type(cause)(cause.message, cause.metadata)
    return errors.ChannelClosed(f"the IPC channel is closed ({cause or 'closed by the host'})")
