"""What the sync and asyncio clients share: requests, the retry policy, outcomes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Union

from paddock.v1 import exec_pb2, session_pb2

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 30.0
#: Bytes of stdin per WriteStdin call, and of file data per upload message.
STDIN_CHUNK = 1 << 20
UPLOAD_CHUNK = 256 * 1024

# Calls that change nothing on the host (or the same way twice, like CloseSession): retried with
# backoff while the host answers UNAVAILABLE. Nothing else is, so nothing runs twice.
_IDEMPOTENT = {
    "paddock.v1.SessionService": ["GetSession", "ListSessions", "CloseSession", "GetSessionMetrics"],
    "paddock.v1.ExecService": ["GetExec", "ListExecs", "GetArtifact"],
    "paddock.v1.FileService": ["DownloadFile", "ListFiles", "StatFile"],
    "paddock.v1.BrowserService": ["GetBrowser", "ListBrowsers", "CloseBrowser", "Screenshot", "GetContent"],
    "paddock.v1.AuditService": ["GetCheckpoint", "GetInclusionProof", "GetConsistencyProof"],
    "paddock.v1.TenantService": ["GetTenantUsage"],
}


def connection(target: Optional[str], api_key: Optional[str], max_attempts: int, tls: bool, ca) -> tuple:
    """(target, call metadata, channel options, TLS root certificates or None for plaintext)."""
    import os
    from pathlib import Path
    target = target or os.environ.get("PADDOCK_SERVER") or DEFAULT_TARGET
    key = api_key or os.environ.get("PADDOCK_API_KEY")
    if not key:
        raise ValueError("an API key is required (api_key=, or $PADDOCK_API_KEY)")
    roots = (Path(ca).read_bytes() if ca else b"") if (tls or ca) else None
    return target, metadata(key.strip()), channel_options(max_attempts), roots


def channel_options(max_attempts: int) -> List[tuple]:
    if max_attempts < 1 or max_attempts > 10:
        raise ValueError("max_attempts must be 1 (no retries) to 10")
    if max_attempts == 1:  # gRPC refuses a retry policy of one attempt
        return [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 16 << 20)]
    config = {"methodConfig": [{
        "name": [{"service": s, "method": m} for s, methods in _IDEMPOTENT.items() for m in methods],
        "retryPolicy": {"maxAttempts": max_attempts, "initialBackoff": "0.2s", "maxBackoff": "5s",
                        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]},
    }]}
    return [("grpc.service_config", json.dumps(config)), ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", 16 << 20)]


Argv = Union[str, Sequence[str]]


def exec_request(session_id: str, argv: Argv, *, env: Optional[Mapping[str, str]] = None, cwd: str = "",
                 stdin: Optional[bytes] = None, time_limit: Optional[float] = None, ipc: bool = False,
                 secret_env: Optional[Mapping[str, str]] = None, keep_stdin_open: bool = False) -> exec_pb2.ExecRequest:
    """An ExecRequest. ``argv`` is a list (no shell), or a string run by ``sh -c``."""
    args = ["sh", "-c", argv] if isinstance(argv, str) else list(argv)
    if not args:
        raise ValueError("argv must not be empty")
    request = exec_pb2.ExecRequest(session_id=session_id, argv=args, env=dict(env or {}), cwd=cwd, ipc=ipc,
                                   keep_stdin_open=keep_stdin_open)
    if stdin is not None:
        request.stdin = stdin
    if time_limit is not None:
        request.time_limit.FromNanoseconds(int(time_limit * 1e9))
    for var, secret in (secret_env or {}).items():
        request.secret_env.add(env=var, secret=secret)
    return request


def session_request(labels: Optional[Mapping[str, str]] = None, policy: str = "",
                    memory_bytes: int = 0, processes: int = 0) -> session_pb2.CreateSessionRequest:
    request = session_pb2.CreateSessionRequest(labels=dict(labels or {}), policy=policy)
    if memory_bytes:
        request.limits.memory_bytes = memory_bytes
    if processes:
        request.limits.max_processes = processes
    return request


@dataclass
class ExecOutcome:
    """How a command ended, with everything it printed."""

    exec_id: str
    #: status, exit code or signal, usage (paddock.v1.ExecResult)
    result: exec_pb2.ExecResult
    stdout: bytes = b""
    stderr: bytes = b""
    progress: List[exec_pb2.ToolProgress] = field(default_factory=list)
    artifacts: List[exec_pb2.ToolArtifact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Exited on its own with status 0."""
        return self.result.status == exec_pb2.EXEC_STATUS_OK and self.result.exit_code == 0

    @property
    def exit_code(self) -> int:
        """The exit code when it exited on its own; -1 when it was killed or never ran."""
        return self.result.exit_code if self.result.status == exec_pb2.EXEC_STATUS_OK else -1

    @property
    def status(self) -> str:
        """The status's name without its prefix: OK, TIMEOUT, OOM, SIGNALED, KILLED..."""
        return exec_pb2.ExecStatus.Name(self.result.status).replace("EXEC_STATUS_", "")

    @property
    def text(self) -> str:
        """stdout as UTF-8 text."""
        return self.stdout.decode("utf-8", "replace")


class Collector:
    """Folds exec events into an outcome, handing each to the caller's callbacks on the way."""

    def __init__(self, on_stdout=None, on_stderr=None, on_progress=None, on_artifact=None, on_event=None):
        self.exec_id = ""
        self._out: List[bytes] = []
        self._err: List[bytes] = []
        self._progress: List[exec_pb2.ToolProgress] = []
        self._artifacts: List[exec_pb2.ToolArtifact] = []
        self._callbacks = (on_stdout, on_stderr, on_progress, on_artifact, on_event)

    def add(self, event: exec_pb2.ExecEvent) -> Optional[ExecOutcome]:
        on_stdout, on_stderr, on_progress, on_artifact, on_event = self._callbacks
        if on_event:
            on_event(event)
        kind = event.WhichOneof("event")
        if kind == "started":
            self.exec_id = event.started.exec_id
        elif kind == "output":
            if event.output.stream == exec_pb2.OUTPUT_STREAM_STDERR:
                self._err.append(event.output.data)
                if on_stderr:
                    on_stderr(event.output.data)
            else:
                self._out.append(event.output.data)
                if on_stdout:
                    on_stdout(event.output.data)
        elif kind == "progress":
            self._progress.append(event.progress)
            if on_progress:
                on_progress(event.progress)
        elif kind == "artifact":
            self._artifacts.append(event.artifact)
            if on_artifact:
                on_artifact(event.artifact)
        elif kind == "result":
            return ExecOutcome(self.exec_id, event.result, b"".join(self._out), b"".join(self._err),
                               self._progress, self._artifacts)
        return None


def metadata(api_key: str) -> tuple:
    return (("authorization", "Bearer " + api_key),)


def no_result(exec_id: str) -> Exception:
    from paddock.errors import Unavailable
    import grpc
    return Unavailable(grpc.StatusCode.UNAVAILABLE, "the exec's stream ended without its result", "STREAM_ENDED",
                       metadata={"execId": exec_id})


Labels = Dict[str, str]
