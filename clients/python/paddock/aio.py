"""The asyncio client: the same shape as :mod:`paddock.client`, with ``async``/``await``.

    async with paddock.aio.Client(target, api_key=key) as client:
        async with await client.create_session() as session:
            run = await session.exec(["echo", "hi"])
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, List, Mapping, Optional, Union

import grpc
import grpc.aio

from paddock import _common
from paddock._common import Argv, ExecOutcome
from paddock.errors import from_rpc_error
from paddock.v1 import (audit_pb2, audit_pb2_grpc, exec_pb2, exec_pb2_grpc, file_pb2, file_pb2_grpc, session_pb2,
                        session_pb2_grpc, tenant_pb2, tenant_pb2_grpc)

__all__ = ["Client", "Session", "RunningExec", "Files"]


async def _typed(awaitable):
    try:
        return await awaitable
    except grpc.aio.AioRpcError as e:
        raise from_rpc_error(e, e.trailing_metadata()) from None


async def _each(call) -> AsyncIterator:
    """The messages of a stream call; cancelled when the consumer stops early."""
    try:
        async for message in call:
            yield message
    except grpc.aio.AioRpcError as e:
        raise from_rpc_error(e, e.trailing_metadata()) from None
    finally:
        call.cancel()


class Client:
    """As :class:`paddock.Client`, for asyncio. Make it inside the running event loop."""

    def __init__(self, target: Optional[str] = None, api_key: Optional[str] = None, *, tls: bool = False,
                 ca: Optional[Union[str, Path]] = None, timeout: float = _common.DEFAULT_TIMEOUT, max_attempts: int = 4):
        self.target, self._metadata, options, roots = _common.connection(target, api_key, max_attempts, tls, ca)
        self.timeout = timeout
        if roots is None:
            self._channel = grpc.aio.insecure_channel(self.target, options=options)
        else:
            self._channel = grpc.aio.secure_channel(self.target, grpc.ssl_channel_credentials(roots or None), options=options)
        self._sessions = session_pb2_grpc.SessionServiceStub(self._channel)
        self._execs = exec_pb2_grpc.ExecServiceStub(self._channel)
        self._files = file_pb2_grpc.FileServiceStub(self._channel)
        self._audit = audit_pb2_grpc.AuditServiceStub(self._channel)
        self._tenants = tenant_pb2_grpc.TenantServiceStub(self._channel)

    async def _unary(self, method, request, timeout: Optional[float] = None):
        return await _typed(method(request, metadata=self._metadata, timeout=timeout or self.timeout))

    def _stream(self, method, request, timeout: Optional[float] = None) -> AsyncIterator:
        return _each(method(request, metadata=self._metadata, timeout=timeout))

    async def create_session(self, *, labels: Optional[Mapping[str, str]] = None, policy: str = "",
                             memory_bytes: int = 0, processes: int = 0) -> "Session":
        info = await self._unary(self._sessions.CreateSession,
                                 _common.session_request(labels, policy, memory_bytes, processes))
        return Session(self, info)

    async def session(self, session_id: str) -> "Session":
        return Session(self, await self._unary(self._sessions.GetSession,
                                               session_pb2.GetSessionRequest(session_id=session_id)))

    async def usage(self) -> tenant_pb2.TenantUsage:
        return await self._unary(self._tenants.GetTenantUsage, tenant_pb2.GetTenantUsageRequest())

    def audit_records(self, from_sequence: int = 0, follow: bool = False) -> AsyncIterator[audit_pb2.AuditRecord]:
        return self._stream(self._audit.StreamAuditRecords,
                            audit_pb2.StreamAuditRecordsRequest(from_sequence=from_sequence, follow=follow))

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class Session:
    """As :class:`paddock.Session`, for asyncio: ``async with``, and ``await`` every call."""

    def __init__(self, client: Client, info: session_pb2.Session):
        self._client = client
        self.id: str = info.session_id
        self.info = info
        self._detached = False
        self.files = Files(client, self.id)

    async def exec(self, argv: Argv, *, timeout: Optional[float] = None, on_stdout=None, on_stderr=None,
                   on_progress=None, on_artifact=None, **options) -> ExecOutcome:
        collector = _common.Collector(on_stdout, on_stderr, on_progress, on_artifact)
        async for event in self.exec_stream(argv, timeout=timeout, **options):
            outcome = collector.add(event)
            if outcome is not None:
                return outcome
        raise _common.no_result(collector.exec_id)

    def exec_stream(self, argv: Argv, *, timeout: Optional[float] = None, **options) -> AsyncIterator[exec_pb2.ExecEvent]:
        """Its events as an async iterator; leaving the loop early cancels the call (and kills the command)."""
        return self._client._stream(self._client._execs.Exec, _common.exec_request(self.id, argv, **options), timeout)

    async def start(self, argv: Argv, **options) -> "RunningExec":
        request = _common.exec_request(self.id, argv, keep_stdin_open=True, **options)
        started = await self._client._unary(self._client._execs.StartExec, request)
        return RunningExec(self._client, self.id, started.exec_id)

    def detach(self) -> "Session":
        self._detached = True
        return self

    async def close(self) -> None:
        if not self._detached:
            await self._client._unary(self._client._sessions.CloseSession,
                                      session_pb2.CloseSessionRequest(session_id=self.id))

    async def __aenter__(self) -> "Session":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class RunningExec:
    """As :class:`paddock.RunningExec`, for asyncio."""

    def __init__(self, client: Client, session_id: str, exec_id: str):
        self._client, self.session_id, self.id = client, session_id, exec_id

    async def write_stdin(self, data: bytes) -> None:
        for at in range(0, max(len(data), 1), _common.STDIN_CHUNK):
            await self._client._unary(self._client._execs.WriteStdin, exec_pb2.WriteStdinRequest(
                session_id=self.session_id, exec_id=self.id, data=data[at:at + _common.STDIN_CHUNK]))

    async def close_stdin(self) -> None:
        await self._client._unary(self._client._execs.WriteStdin, exec_pb2.WriteStdinRequest(
            session_id=self.session_id, exec_id=self.id, close=True))

    async def signal(self, signal: str = "TERM") -> bool:
        value = exec_pb2.Signal.Value("SIGNAL_" + signal.upper())
        reply = await self._client._unary(self._client._execs.SignalExec, exec_pb2.SignalExecRequest(
            session_id=self.session_id, exec_id=self.id, signal=value))
        return reply.delivered

    async def wait(self, **callbacks) -> ExecOutcome:
        collector = _common.Collector(**callbacks)
        async for event in self._client._stream(self._client._execs.AttachExec, exec_pb2.AttachExecRequest(
                session_id=self.session_id, exec_id=self.id)):
            outcome = collector.add(event)
            if outcome is not None:
                return outcome
        raise _common.no_result(self.id)


class Files:
    """As :class:`paddock.Files`, for asyncio."""

    def __init__(self, client: Client, session_id: str):
        self._client, self._session_id = client, session_id

    async def write(self, path: str, data: bytes, mode: int = 0o644, overwrite: bool = True) -> file_pb2.FileInfo:
        async def requests():
            yield file_pb2.UploadFileRequest(header=file_pb2.UploadFileHeader(
                session_id=self._session_id, path=path, mode=mode, overwrite=overwrite, make_parents=True))
            for at in range(0, len(data), _common.UPLOAD_CHUNK):
                yield file_pb2.UploadFileRequest(data=data[at:at + _common.UPLOAD_CHUNK])
        reply = await _typed(self._client._files.UploadFile(requests(), metadata=self._client._metadata))
        return reply.file

    async def read(self, path: str) -> bytes:
        chunks = [c.data async for c in self._client._stream(
            self._client._files.DownloadFile, file_pb2.DownloadFileRequest(session_id=self._session_id, path=path))]
        return b"".join(chunks)

    async def list(self, path: str = "") -> List[file_pb2.FileInfo]:
        files, token = [], ""
        while True:
            page = await self._client._unary(self._client._files.ListFiles, file_pb2.ListFilesRequest(
                session_id=self._session_id, path=path, page_token=token))
            files.extend(page.files)
            if not page.next_page_token or page.next_page_token == token:
                return files
            token = page.next_page_token
