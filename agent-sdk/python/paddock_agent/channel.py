"""The synchronous, thread-safe IPC channel."""
from __future__ import annotations

import itertools
import socket
import threading
from typing import Any, Dict, List, Mapping, Optional, Set

from . import _ops, _wire, errors
from ._ops import ArtifactInfo, Data, FileList

_RECV_SIZE = 65536


class Channel:
    """A synchronous channel to the host, safe to share between threads.

    Each call sends one request and blocks until its reply arrives. Calls from several threads
    are pipelined: there is no reader thread; the first waiting caller reads frames from the
    socket (its own reply and those of others, which it hands over) while the rest wait, so a
    single-threaded call costs one ``sendall`` and usually one ``recv``.

    Use :meth:`from_env` inside a jail, or ``Channel(sock)`` with a connected stream socket.
    The channel owns the socket: :meth:`close` (or leaving a ``with`` block) closes it.
    """

    def __init__(self, sock: socket.socket, max_frame: Optional[int] = None) -> None:
        """``sock``: a connected stream socket. ``max_frame``: the frame limit in bytes; default
        PADDOCK_IPC_MAX_FRAME, else 4194304 (4 MiB). Requests over it are refused locally."""
        sock.setblocking(True)
        self._sock = sock
        self.max_frame = max_frame or _wire.max_frame_from_env()
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()                # guards the fields below
        self._cond = threading.Condition(self._lock)  # replies arrived, reader changed, closed
        self._waiting: Set[int] = set()             # ids sent and not yet answered
        self._replies: Dict[int, Any] = {}          # replies read for a waiter that is not the reader
        self._reading = False                       # a caller is reading frames
        self._closed: Optional[BaseException] = None
        self._rbuf = bytearray()                    # bytes received, not yet parsed (reader only)

    @classmethod
    def from_env(cls) -> "Channel":
        """The channel of this exec: the socket on the fd named by PADDOCK_IPC_FD (3).
        Raises :class:`NoChannel` when the exec was not started with ``ipc = true``."""
        return cls(_wire.socket_from_env())

    # ---- the API ----

    def ping(self) -> None:
        """A no-op round trip to the host, for health checks and latency measurements."""
        self._call(*_ops.ping())

    def progress(self, message: str = "", fraction: Optional[float] = None) -> int:
        """Reports progress to the planner. ``message``: UTF-8, at most 4096 bytes; ``fraction``:
        0.0 to 1.0, or None (default) for unknown. Returns the event's sequence number."""
        return self._call(*_ops.progress(message, fraction))

    def artifact(self, name: str, data: Optional[Data] = None, *, path: Optional[str] = None,
                 content_type: str = "") -> ArtifactInfo:
        """Records a named artifact for the planner, from exactly one of ``data`` (bytes, or str
        as UTF-8; bounded by the frame limit) or ``path`` (a workspace file relative to
        /workspace, copied now; at most 64 MiB). ``name``: 1-255 of ``[A-Za-z0-9._-]``, unique
        within the exec. ``content_type``: a MIME type; default "" = application/octet-stream."""
        return self._call(*_ops.artifact(name, data, path, content_type))

    def read_file(self, path: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        """Reads a workspace file (``path`` relative to /workspace) from byte ``offset``:
        ``length`` bytes at most, or, when None (default), everything to the end of the file,
        in as many requests as the frame limit needs."""
        reader = _ops.FileReader(path, offset, length)
        op = reader.next()
        while op is not None:
            reader.feed(self._call(*op))
            op = reader.next()
        return reader.data

    def write_file(self, path: str, data: Data, *, mode: int = 0o644, make_parents: bool = False,
                   create_only: bool = False) -> int:
        """Writes a workspace file (``path`` relative to /workspace) with ``data`` (bytes, or str
        as UTF-8; bounded by the frame limit). ``mode``: permission bits of a new file;
        ``make_parents``: create missing directories; ``create_only``: raise AlreadyExists if the
        path exists. Returns the size written, bytes."""
        return self._call(*_ops.write_file(path, data, mode, make_parents, create_only))

    def list_files(self, path: str = "") -> FileList:
        """The entries of a workspace directory (relative to /workspace; "" = the workspace),
        sorted by name, as a list of FileEntry with a ``truncated`` attribute."""
        return self._call(*_ops.list_files(path))

    def kv_get(self, key: str) -> Optional[bytes]:
        """The value of ``key`` in the session's scratch state, or None when it is not set."""
        return self._call(*_ops.kv_get(key))

    def kv_put(self, key: str, value: Data) -> None:
        """Sets ``key`` (1-256 bytes of UTF-8) to ``value`` (bytes, or str as UTF-8; at most
        64 KiB). Per session: at most 1024 keys and 4 MiB in all."""
        self._call(*_ops.kv_put(key, value))

    def kv_delete(self, key: str) -> bool:
        """Removes ``key``; returns True when it was set."""
        return self._call(*_ops.kv_delete(key))

    def kv_list(self, prefix: str = "") -> List[str]:
        """The keys starting with ``prefix`` (default "": all), sorted."""
        return self._call(*_ops.kv_list(prefix))

    def call_tool(self, name: str, arguments: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Calls a host-side tool with JSON-like ``arguments``; returns its JSON-like result.
        (This host version answers every tool with NotAvailable.)"""
        return self._call(*_ops.call_tool(name, arguments))

    def open_browser(self, provider: str = "") -> "Browser":
        """Starts a browser for this exec's session (``provider``: a preferred one; "" = the
        tenant's order). Needs the session policy's "browser" operation."""
        from .browser import Browser
        browser_id, served_by = self._call(*_ops.browser_open(provider))
        return Browser(self._call, browser_id, served_by)

    def close(self) -> None:
        """Closes the channel and its socket. Calls waiting for a reply raise ChannelClosed."""
        self._fail(errors.ChannelClosed("the IPC channel was closed by this process"))
        self._sock.close()

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- machinery ----

    def _call(self, envelope: Any, expected: str, convert: Any) -> Any:
        """Sends ``envelope`` with a fresh id and returns ``convert`` of its reply."""
        request_id = envelope.id = next(self._ids)
        frame = _wire.encode(envelope, self.max_frame)
        with self._lock:
            if self._closed is not None:
                raise _wire.closed_error(self._closed)
            self._waiting.add(request_id)
        try:
            try:
                with self._send_lock:
                    self._sock.sendall(frame)
            except OSError as e:
                self._fail(errors.ChannelClosed(f"the IPC channel is closed ({e})"))
            reply = self._await(request_id)
            try:
                message = _wire.unwrap(reply, expected)
            except errors.ProtocolError as e:
                self._fail(e)
                raise
            return convert(message)
        finally:
            with self._lock:
                self._waiting.discard(request_id)
                self._replies.pop(request_id, None)

    def _await(self, request_id: int) -> Any:
        """The reply to ``request_id``: handed over by the reader, or read by this caller as the
        reader (leader/follower)."""
        with self._lock:
            while True:
                reply = self._replies.pop(request_id, None)
                if reply is not None:
                    return reply
                if self._closed is not None:
                    raise _wire.closed_error(self._closed)
                if not self._reading:
                    self._reading = True
                    break
                self._cond.wait()
        try:
            while True:
                reply = self._read_frame()
                if reply.id == request_id:
                    return reply
                with self._lock:
                    if reply.id in self._waiting:  # else its caller gave up: drop it
                        self._replies[reply.id] = reply
                        self._cond.notify_all()
        except errors.ChannelClosed as e:
            self._fail(e)
            raise _wire.closed_error(self._closed) from None
        except OSError as e:
            self._fail(errors.ChannelClosed(f"the IPC channel is closed ({e})"))
            raise _wire.closed_error(self._closed) from None
        finally:
            with self._lock:
                self._reading = False
                self._cond.notify_all()  # someone else takes over reading

    def _read_frame(self) -> Any:
        """The next Envelope from the socket (reader only)."""
        buf = self._rbuf
        while len(buf) < 4:
            self._fill(4 - len(buf))
        (length,) = _wire.HEADER.unpack_from(buf)
        _wire.check_length(length, self.max_frame)
        end = 4 + length
        while len(buf) < end:
            self._fill(end - len(buf))
        envelope = _wire.decode(bytes(memoryview(buf)[4:end]))
        del buf[:end]
        return envelope

    def _fill(self, needed: int) -> None:
        data = self._sock.recv(max(needed, _RECV_SIZE))
        if not data:
            raise errors.ChannelClosed("the IPC channel was closed by the host")
        self._rbuf += data

    def _fail(self, cause: BaseException) -> None:
        """Marks the channel closed by ``cause`` (the first cause wins), shuts the socket down (which
        wakes a caller blocked in recv) and wakes every waiter."""
        with self._lock:
            if self._closed is not None:
                return
            self._closed = cause
            self._cond.notify_all()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
