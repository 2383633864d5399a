"""The asyncio IPC channel."""
from __future__ import annotations

import asyncio
import itertools
import socket
from typing import Any, Dict, List, Mapping, Optional

from . import _ops, _wire, errors
from ._ops import ArtifactInfo, Data, FileList


class AsyncChannel:
    """An asyncio channel to the host: the methods of :class:`~paddock_agent.Channel`, as
    coroutines. Concurrent calls (e.g. under ``asyncio.gather``) are pipelined; one reader task
    hands each reply to its caller by id.

    ``AsyncChannel.from_env()`` and ``AsyncChannel(sock)`` are plain (not async) factories; the
    channel connects its streams to the running event loop on its first call and must then be
    used from that loop only. Close it with ``await channel.close()`` or ``async with``::

        async with AsyncChannel.from_env() as channel:
            await asyncio.gather(channel.progress("half", 0.5), channel.kv_get("k"))
    """

    def __init__(self, sock: socket.socket, max_frame: Optional[int] = None) -> None:
        """``sock``: a connected stream socket, owned by the channel from now on. ``max_frame``:
        the frame limit in bytes; default PADDOCK_IPC_MAX_FRAME, else 4194304 (4 MiB)."""
        self._sock = sock
        self.max_frame = max_frame or _wire.max_frame_from_env()
        self._ids = itertools.count(1)
        self._pending: Dict[int, "asyncio.Future[Any]"] = {}
        self._closed: Optional[BaseException] = None
        self._connecting: Optional["asyncio.Future[None]"] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._write_lock: Optional[asyncio.Lock] = None
        self._reader_task: Optional["asyncio.Task[None]"] = None

    @classmethod
    def from_env(cls) -> "AsyncChannel":
        """The channel of this exec: the socket on the fd named by PADDOCK_IPC_FD (3).
        Raises :class:`NoChannel` when the exec was not started with ``ipc = true``."""
        return cls(_wire.socket_from_env())

    # ---- the API (see Channel for units and defaults) ----

    async def ping(self) -> None:
        """A no-op round trip to the host."""
        await self._call(*_ops.ping())

    async def progress(self, message: str = "", fraction: Optional[float] = None) -> int:
        """Reports progress (``fraction`` 0.0-1.0 or None); returns the event's sequence number."""
        return await self._call(*_ops.progress(message, fraction))

    async def artifact(self, name: str, data: Optional[Data] = None, *, path: Optional[str] = None,
                       content_type: str = "") -> ArtifactInfo:
        """Records an artifact from exactly one of ``data`` or ``path`` (a workspace file)."""
        return await self._call(*_ops.artifact(name, data, path, content_type))

    async def read_file(self, path: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        """Reads a workspace file from ``offset``: ``length`` bytes at most, or (None) to its end."""
        reader = _ops.FileReader(path, offset, length)
        op = reader.next()
        while op is not None:
            reader.feed(await self._call(*op))
            op = reader.next()
        return reader.data

    async def write_file(self, path: str, data: Data, *, mode: int = 0o644,
                         make_parents: bool = False, create_only: bool = False) -> int:
        """Writes a workspace file; returns the size written, bytes."""
        return await self._call(*_ops.write_file(path, data, mode, make_parents, create_only))

    async def list_files(self, path: str = "") -> FileList:
        """The entries of a workspace directory, sorted by name (``truncated`` attribute)."""
        return await self._call(*_ops.list_files(path))

    async def kv_get(self, key: str) -> Optional[bytes]:
        """The value of ``key`` in the session's scratch state, or None."""
        return await self._call(*_ops.kv_get(key))

    async def kv_put(self, key: str, value: Data) -> None:
        """Sets ``key`` to ``value`` (at most 64 KiB)."""
        await self._call(*_ops.kv_put(key, value))

    async def kv_delete(self, key: str) -> bool:
        """Removes ``key``; returns True when it was set."""
        return await self._call(*_ops.kv_delete(key))

    async def kv_list(self, prefix: str = "") -> List[str]:
        """The keys starting with ``prefix``, sorted."""
        return await self._call(*_ops.kv_list(prefix))

    async def call_tool(self, name: str, arguments: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Calls a host-side tool; returns its JSON-like result."""
        return await self._call(*_ops.call_tool(name, arguments))

    async def open_browser(self, provider: str = "") -> Any:
        """Starts a browser for this exec's session; an :class:`~paddock_agent.browser.AsyncBrowser`."""
        from .browser import AsyncBrowser
        browser_id, served_by = await self._call(*_ops.browser_open(provider))
        return AsyncBrowser(self._call, browser_id, served_by)

    async def close(self) -> None:
        """Closes the channel and its socket; pending calls raise ChannelClosed."""
        self._fail(errors.ChannelClosed("the IPC channel was closed by this process"))
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is None:
            self._sock.close()
            return
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass

    async def __aenter__(self) -> "AsyncChannel":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- machinery ----

    async def _connect(self) -> None:
        reader, self._writer = await asyncio.open_connection(sock=self._sock)
        self._write_lock = asyncio.Lock()
        self._reader_task = asyncio.ensure_future(self._read_loop(reader))

    async def _call(self, envelope: Any, expected: str, convert: Any) -> Any:
        """Sends ``envelope`` with a fresh id and returns ``convert`` of its reply."""
        request_id = envelope.id = next(self._ids)
        frame = _wire.encode(envelope, self.max_frame)
        if self._writer is None and self._closed is None:
            if self._connecting is None:
                self._connecting = asyncio.ensure_future(self._connect())
            await asyncio.shield(self._connecting)
        if self._closed is not None:
            raise _wire.closed_error(self._closed)
        assert self._writer is not None and self._write_lock is not None
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            try:
                async with self._write_lock:
                    self._writer.write(frame)
                    await self._writer.drain()
            except OSError as e:
                self._fail(errors.ChannelClosed(f"the IPC channel is closed ({e})"))
            reply = await future
        finally:
            self._pending.pop(request_id, None)
        try:
            message = _wire.unwrap(reply, expected)
        except errors.ProtocolError as e:
            self._fail(e)
            raise
        return convert(message)

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        """Reads replies until EOF and completes their callers' futures."""
        try:
            while True:
                (length,) = _wire.HEADER.unpack(await reader.readexactly(4))
                _wire.check_length(length, self.max_frame)
                reply = _wire.decode(await reader.readexactly(length))
                future = self._pending.pop(reply.id, None)
                if future is not None and not future.done():  # else its caller gave up
                    future.set_result(reply)
        except asyncio.IncompleteReadError:
            self._fail(errors.ChannelClosed("the IPC channel was closed by the host"))
        except errors.ChannelClosed as e:
            self._fail(e)
        except asyncio.CancelledError:
            self._fail(errors.ChannelClosed("the IPC channel was closed by this process"))
            raise
        except Exception as e:  # OSError, or a bug: never leave a caller waiting
            self._fail(errors.ChannelClosed(f"the IPC channel is closed ({e})"))

    def _fail(self, cause: BaseException) -> None:
        """Marks the channel closed by ``cause`` (the first cause wins), closes the transport and
        fails pending calls."""
        if self._closed is None:
            self._closed = cause
            if self._writer is not None:
                self._writer.close()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(_wire.closed_error(self._closed))
