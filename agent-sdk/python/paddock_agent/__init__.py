"""Paddock agent SDK: typed IPC from code inside a Paddock jail to the host.

An exec started with ``ExecRequest.ipc = true`` (``paddock exec --ipc``) has a channel to the
host on fd 3 (``PADDOCK_IPC_FD``). The functions here use one process-wide :class:`Channel`,
opened on first use::

    import paddock_agent
    paddock_agent.progress("step 1", 0.5)
    paddock_agent.artifact("report.txt", b"done", content_type="text/plain")

For several channels, explicit lifetimes or asyncio, use :class:`Channel` or
:class:`AsyncChannel` (imported on first use: asyncio is slow to import).
Every call raises a :class:`PaddockError` subclass when it fails.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional

from ._ops import ArtifactInfo, Data, Evaluation, FileEntry, FileList, Navigation
from .channel import Channel
from .errors import (AlreadyExists, ChannelClosed, DeadlineExceeded, FailedPrecondition, InternalError,
                     InvalidArgument, NoChannel, NotAvailable, NotFound, PaddockError,
                     PayloadTooLarge, PermissionDenied, ProtocolError, RateLimited,
                     ResourceExhausted, UnknownRequest, WorkspaceFull)

if TYPE_CHECKING:
    from .aio import AsyncChannel
    from .browser import Browser

__all__ = [
    "Channel", "AsyncChannel", "ArtifactInfo", "FileEntry", "FileList", "default_channel",
    "ping", "progress", "artifact", "read_file", "write_file", "list_files",
    "kv_get", "kv_put", "kv_delete", "kv_list", "call_tool", "open_browser", "Navigation", "Evaluation",
    "PaddockError", "InvalidArgument", "PermissionDenied", "NotFound", "AlreadyExists",
    "PayloadTooLarge", "ResourceExhausted", "RateLimited", "WorkspaceFull", "NotAvailable",
    "UnknownRequest", "FailedPrecondition", "InternalError", "DeadlineExceeded", "NoChannel", "ChannelClosed",
    "ProtocolError",
]

_default: Optional[Channel] = None
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name == "AsyncChannel":
        from .aio import AsyncChannel
        return AsyncChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_channel() -> Channel:
    """The process-wide channel the module functions use, opened with :meth:`Channel.from_env`
    on first use. Raises :class:`NoChannel` (and tries again next time) without a channel."""
    global _default
    channel = _default
    if channel is None:
        with _default_lock:
            if _default is None:
                _default = Channel.from_env()
            channel = _default
    return channel


def ping() -> None:
    """See :meth:`Channel.ping`."""
    default_channel().ping()


def progress(message: str = "", fraction: Optional[float] = None) -> int:
    """See :meth:`Channel.progress`."""
    return default_channel().progress(message, fraction)


def artifact(name: str, data: Optional[Data] = None, *, path: Optional[str] = None,
             content_type: str = "") -> ArtifactInfo:
    """See :meth:`Channel.artifact`."""
    return default_channel().artifact(name, data, path=path, content_type=content_type)


def read_file(path: str, offset: int = 0, length: Optional[int] = None) -> bytes:
    """See :meth:`Channel.read_file`."""
    return default_channel().read_file(path, offset, length)


def write_file(path: str, data: Data, *, mode: int = 0o644, make_parents: bool = False,
               create_only: bool = False) -> int:
    """See :meth:`Channel.write_file`."""
    return default_channel().write_file(path, data, mode=mode, make_parents=make_parents,
                                        create_only=create_only)


def list_files(path: str = "") -> FileList:
    """See :meth:`Channel.list_files`."""
    return default_channel().list_files(path)


def kv_get(key: str) -> Optional[bytes]:
    """See :meth:`Channel.kv_get`."""
    return default_channel().kv_get(key)


def kv_put(key: str, value: Data) -> None:
    """See :meth:`Channel.kv_put`."""
    default_channel().kv_put(key, value)


def kv_delete(key: str) -> bool:
    """See :meth:`Channel.kv_delete`."""
    return default_channel().kv_delete(key)


def kv_list(prefix: str = "") -> List[str]:
    """See :meth:`Channel.kv_list`."""
    return default_channel().kv_list(prefix)


def call_tool(name: str, arguments: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """See :meth:`Channel.call_tool`."""
    return default_channel().call_tool(name, arguments)


def open_browser(provider: str = "") -> "Browser":
    """See :meth:`Channel.open_browser`."""
    return default_channel().open_browser(provider)
