"""The blocking client. See :mod:`paddock.aio` for the asyncio one, of the same shape."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Optional, Union

import grpc

from paddock import _common
from paddock._common import Argv, ExecOutcome
from paddock.errors import from_rpc_error
from paddock.v1 import (audit_pb2, audit_pb2_grpc, browser_pb2, browser_pb2_grpc, exec_pb2, exec_pb2_grpc, file_pb2,
                        file_pb2_grpc, session_pb2, session_pb2_grpc, tenant_pb2, tenant_pb2_grpc)

__all__ = ["Client", "Session", "RunningExec", "Files", "Browser", "EventStream"]


def _typed(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None


class EventStream:
    """The messages of a server stream; iterate it, and close it (or use ``with``) to cancel the call."""

    def __init__(self, call):
        self._call = call

    def __iter__(self):
        try:
            for message in self._call:
                yield message
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def close(self) -> None:
        self._call.cancel()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Client:
    """A connection to one Paddock host, for one API key. Thread-safe; share one.

    ``target`` is ``host:port`` (default ``$PADDOCK_SERVER`` or 127.0.0.1:50051); ``api_key`` the
    key (default ``$PADDOCK_API_KEY``). ``tls`` connects with TLS (``ca`` a PEM file of trusted
    certificates, else the system's roots); ``timeout`` is each unary call's deadline in seconds
    (streams have none unless given); ``max_attempts`` bounds retries of idempotent calls while the
    host is UNAVAILABLE (1 = none).
    """

    def __init__(self, target: Optional[str] = None, api_key: Optional[str] = None, *, tls: bool = False,
                 ca: Optional[Union[str, Path]] = None, timeout: float = _common.DEFAULT_TIMEOUT, max_attempts: int = 4):
        self.target, self._metadata, options, roots = _common.connection(target, api_key, max_attempts, tls, ca)
        self.timeout = timeout
        if roots is None:
            self._channel = grpc.insecure_channel(self.target, options=options)
        else:
            self._channel = grpc.secure_channel(self.target, grpc.ssl_channel_credentials(roots or None), options=options)
        self._sessions = session_pb2_grpc.SessionServiceStub(self._channel)
        self._execs = exec_pb2_grpc.ExecServiceStub(self._channel)
        self._files = file_pb2_grpc.FileServiceStub(self._channel)
        self._browsers = browser_pb2_grpc.BrowserServiceStub(self._channel)
        self._audit = audit_pb2_grpc.AuditServiceStub(self._channel)
        self._tenants = tenant_pb2_grpc.TenantServiceStub(self._channel)

    def _unary(self, method, request, timeout: Optional[float] = None):
        return _typed(method, request, metadata=self._metadata, timeout=timeout or self.timeout)

    def _stream(self, method, request, timeout: Optional[float] = None) -> EventStream:
        return EventStream(method(request, metadata=self._metadata, timeout=timeout))

    def create_session(self, *, labels: Optional[Mapping[str, str]] = None, policy: str = "", memory_bytes: int = 0,
                       processes: int = 0, request: Optional[session_pb2.CreateSessionRequest] = None) -> "Session":
        """A new session; closing it (or leaving its ``with`` block) closes it on the host."""
        req = request or _common.session_request(labels, policy, memory_bytes, processes)
        return Session(self, self._unary(self._sessions.CreateSession, req))

    def session(self, session_id: str) -> "Session":
        """An existing session of the caller's tenant."""
        return Session(self, self._unary(self._sessions.GetSession, session_pb2.GetSessionRequest(session_id=session_id)))

    def list_sessions(self) -> List[session_pb2.Session]:
        """The tenant's sessions, every page of them."""
        sessions, token = [], ""
        while True:
            page = self._unary(self._sessions.ListSessions, session_pb2.ListSessionsRequest(page_token=token))
            sessions.extend(page.sessions)
            if not page.next_page_token or page.next_page_token == token:
                return sessions
            token = page.next_page_token

    def usage(self) -> tenant_pb2.TenantUsage:
        """The caller's tenant's budgets and what it uses of them."""
        return self._unary(self._tenants.GetTenantUsage, tenant_pb2.GetTenantUsageRequest())

    def audit_records(self, from_sequence: int = 0, follow: bool = False) -> EventStream:
        """The tenant's audit records from ``from_sequence`` on; with ``follow``, new ones as they come."""
        return self._stream(self._audit.StreamAuditRecords,
                            audit_pb2.StreamAuditRecordsRequest(from_sequence=from_sequence, follow=follow))

    def audit_checkpoint(self) -> audit_pb2.AuditCheckpoint:
        """The audit log's newest signed checkpoint."""
        return self._unary(self._audit.GetCheckpoint, audit_pb2.GetCheckpointRequest())

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Session:
    """One session: a live jail with its workspace. Use ``with``; ``detach()`` to leave it open."""

    def __init__(self, client: Client, info: session_pb2.Session):
        self._client = client
        self.id: str = info.session_id
        self.info = info
        self._detached = False
        self.files = Files(client, self.id)

    def refresh(self) -> session_pb2.Session:
        self.info = self._client._unary(self._client._sessions.GetSession,
                                        session_pb2.GetSessionRequest(session_id=self.id))
        return self.info

    def exec(self, argv: Argv, *, env: Optional[Mapping[str, str]] = None, cwd: str = "", stdin: Optional[bytes] = None,
             time_limit: Optional[float] = None, ipc: bool = False, secret_env: Optional[Mapping[str, str]] = None,
             on_stdout: Optional[Callable[[bytes], None]] = None, on_stderr: Optional[Callable[[bytes], None]] = None,
             on_progress: Optional[Callable[[exec_pb2.ToolProgress], None]] = None,
             on_artifact: Optional[Callable[[exec_pb2.ToolArtifact], None]] = None,
             timeout: Optional[float] = None) -> ExecOutcome:
        """Runs ``argv`` (a list, or a string for ``sh -c``) and waits for it.

        Callbacks get its output and SDK events as they happen; the outcome holds all of it. A
        non-zero exit is an outcome, not an exception. ``time_limit`` (seconds) is the host's kill
        limit; ``timeout`` the client's deadline for the whole call.
        """
        collector = _common.Collector(on_stdout, on_stderr, on_progress, on_artifact)
        with self.exec_stream(argv, env=env, cwd=cwd, stdin=stdin, time_limit=time_limit, ipc=ipc,
                              secret_env=secret_env, timeout=timeout) as events:
            for event in events:
                outcome = collector.add(event)
                if outcome is not None:
                    return outcome
        raise _common.no_result(collector.exec_id)

    def exec_stream(self, argv: Argv, *, timeout: Optional[float] = None, **options) -> EventStream:
        """Runs ``argv``; its events (started, output, progress, artifact, result) as a stream. Closing it kills it."""
        return self._client._stream(self._client._execs.Exec, _common.exec_request(self.id, argv, **options), timeout)

    def start(self, argv: Argv, **options) -> "RunningExec":
        """Starts ``argv`` in the background, its stdin open, and returns at once."""
        request = _common.exec_request(self.id, argv, keep_stdin_open=True, **options)
        started = self._client._unary(self._client._execs.StartExec, request)
        return RunningExec(self._client, self.id, started.exec_id)

    def open_browser(self, provider: str = "") -> "Browser":
        """A browser for this session, closed with it."""
        created = self._client._unary(self._client._browsers.CreateBrowser,
                                      browser_pb2.CreateBrowserRequest(session_id=self.id, provider=provider), 330)
        return Browser(self._client, created)

    def artifact(self, exec_id: str, name: str) -> bytes:
        """The bytes of an artifact a command published through the in-sandbox SDK."""
        chunks = self._client._stream(self._client._execs.GetArtifact,
                                      exec_pb2.GetArtifactRequest(session_id=self.id, exec_id=exec_id, name=name))
        return b"".join(c.data for c in chunks)

    def detach(self) -> "Session":
        """Leaves the session open when this object is closed."""
        self._detached = True
        return self

    def close(self) -> None:
        """Closes the session on the host (unless detached); closing a closed one is fine."""
        if not self._detached:
            self._client._unary(self._client._sessions.CloseSession, session_pb2.CloseSessionRequest(session_id=self.id))

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RunningExec:
    """A command started with :meth:`Session.start`."""

    def __init__(self, client: Client, session_id: str, exec_id: str):
        self._client, self.session_id, self.id = client, session_id, exec_id

    def write_stdin(self, data: bytes) -> None:
        """Writes to its stdin, 1 MiB a call; waits while the process does not read, up to the client's timeout."""
        for at in range(0, max(len(data), 1), _common.STDIN_CHUNK):
            self._client._unary(self._client._execs.WriteStdin, exec_pb2.WriteStdinRequest(
                session_id=self.session_id, exec_id=self.id, data=data[at:at + _common.STDIN_CHUNK]))

    def close_stdin(self) -> None:
        self._client._unary(self._client._execs.WriteStdin, exec_pb2.WriteStdinRequest(
            session_id=self.session_id, exec_id=self.id, close=True))

    def signal(self, signal: str = "TERM") -> bool:
        """Sends INT, TERM, KILL, HUP, QUIT or USR1; False when it had ended already."""
        value = exec_pb2.Signal.Value("SIGNAL_" + signal.upper())
        return self._client._unary(self._client._execs.SignalExec, exec_pb2.SignalExecRequest(
            session_id=self.session_id, exec_id=self.id, signal=value)).delivered

    def info(self) -> exec_pb2.ExecInfo:
        return self._client._unary(self._client._execs.GetExec,
                                   exec_pb2.GetExecRequest(session_id=self.session_id, exec_id=self.id))

    def events(self) -> EventStream:
        """Its events from the start of its retained output until it ends; closing stops following only."""
        return self._client._stream(self._client._execs.AttachExec,
                                    exec_pb2.AttachExecRequest(session_id=self.session_id, exec_id=self.id))

    def wait(self, **callbacks) -> ExecOutcome:
        """Follows it to its end (callbacks as for :meth:`Session.exec`) and returns the outcome."""
        collector = _common.Collector(**callbacks)
        with self.events() as events:
            for event in events:
                outcome = collector.add(event)
                if outcome is not None:
                    return outcome
        raise _common.no_result(self.id)


class Files:
    """A session's workspace; paths are relative to it."""

    def __init__(self, client: Client, session_id: str):
        self._client, self._session_id = client, session_id

    def write(self, path: str, data: bytes, mode: int = 0o644, overwrite: bool = True) -> file_pb2.FileInfo:
        """Writes ``data`` to ``path``; missing parent directories are made. With ``overwrite`` False an
        existing file is left alone and :class:`paddock.AlreadyExists` raised."""
        def requests():
            yield file_pb2.UploadFileRequest(header=file_pb2.UploadFileHeader(
                session_id=self._session_id, path=path, mode=mode, overwrite=overwrite, make_parents=True))
            for at in range(0, len(data), _common.UPLOAD_CHUNK):
                yield file_pb2.UploadFileRequest(data=data[at:at + _common.UPLOAD_CHUNK])
        return _typed(self._client._files.UploadFile, requests(), metadata=self._client._metadata).file

    def upload(self, local: Union[str, Path], path: str) -> file_pb2.FileInfo:
        """Copies a local file to ``path`` with its permission bits."""
        local = Path(local)
        return self.write(path, local.read_bytes(), local.stat().st_mode & 0o777)

    def read(self, path: str) -> bytes:
        """The whole file at ``path``."""
        chunks = self._client._stream(self._client._files.DownloadFile,
                                      file_pb2.DownloadFileRequest(session_id=self._session_id, path=path))
        return b"".join(c.data for c in chunks)

    def download(self, path: str, local: Union[str, Path]) -> None:
        Path(local).write_bytes(self.read(path))

    def list(self, path: str = "") -> List[file_pb2.FileInfo]:
        files, token = [], ""
        while True:
            page = self._client._unary(self._client._files.ListFiles, file_pb2.ListFilesRequest(
                session_id=self._session_id, path=path, page_token=token))
            files.extend(page.files)
            if not page.next_page_token or page.next_page_token == token:
                return files
            token = page.next_page_token

    def stat(self, path: str) -> Optional[file_pb2.FileInfo]:
        """What is at ``path``, or None."""
        r = self._client._unary(self._client._files.StatFile,
                                file_pb2.StatFileRequest(session_id=self._session_id, path=path))
        return r.file if r.exists else None

    def remove(self, path: str, recursive: bool = False) -> None:
        self._client._unary(self._client._files.RemoveFile, file_pb2.RemoveFileRequest(
            session_id=self._session_id, path=path, recursive=recursive))

    def make_directories(self, path: str) -> None:
        self._client._unary(self._client._files.MakeDirectory, file_pb2.MakeDirectoryRequest(
            session_id=self._session_id, path=path, parents=True))


class Browser:
    """A browser of a session, closed with it."""

    _DEADLINE = 330.0  # the host's longest page-action timeout (5 minutes) and some

    def __init__(self, client: Client, info: browser_pb2.Browser):
        self._client, self.info = client, info
        self.id: str = info.browser_id

    def _call(self, method, request):
        return self._client._unary(method, request, self._DEADLINE)

    def navigate(self, url: str) -> browser_pb2.NavigateResponse:
        return self._call(self._client._browsers.Navigate, browser_pb2.NavigateRequest(
            session_id=self.info.session_id, browser_id=self.id, url=url))

    def screenshot(self) -> bytes:
        """A PNG of what the page shows."""
        return self._call(self._client._browsers.Screenshot, browser_pb2.ScreenshotRequest(
            session_id=self.info.session_id, browser_id=self.id)).image

    def text(self) -> str:
        return self._call(self._client._browsers.GetContent, browser_pb2.GetContentRequest(
            session_id=self.info.session_id, browser_id=self.id)).content

    def click(self, selector: str) -> None:
        self._call(self._client._browsers.Click, browser_pb2.ClickRequest(
            session_id=self.info.session_id, browser_id=self.id, selector=selector))

    def type(self, selector: str, text: str = "", *, secret: str = "") -> None:
        """Types ``text``, or puts the vault secret ``secret`` into a password field where the operator bound it."""
        self._call(self._client._browsers.Type, browser_pb2.TypeRequest(
            session_id=self.info.session_id, browser_id=self.id, selector=selector, text=text, secret=secret))

    def close(self) -> None:
        self._call(self._client._browsers.CloseBrowser, browser_pb2.CloseBrowserRequest(
            session_id=self.info.session_id, browser_id=self.id))

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
