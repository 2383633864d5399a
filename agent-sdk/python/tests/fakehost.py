"""A fake Paddock host for the SDK's tests: the host end of a socketpair, read by a thread.

Its framing is written here from the protocol's definition, independently of the SDK's.
"""
import faulthandler
import socket
import struct
import threading
from typing import Callable, Dict, List, Optional

from google.protobuf import json_format, message as _message
from paddock.ipc.v1 import ipc_pb2

Envelope = ipc_pb2.Envelope

# A hung test must fail the build, not stall it.
faulthandler.dump_traceback_later(120, exit=True)


def frame(envelope: Envelope) -> bytes:
    body = envelope.SerializeToString()
    return struct.pack(">I", len(body)) + body


def reply(request: Envelope, field: str, message: Optional[_message.Message] = None) -> Envelope:
    """The Envelope answering ``request`` with ``field`` (set to ``message``, or empty)."""
    envelope = Envelope(id=request.id)
    sub = getattr(envelope, field)
    sub.SetInParent()
    if message is not None:
        sub.CopyFrom(message)
    return envelope


def error(request: Envelope, reason: int, message: str = "", **metadata: str) -> Envelope:
    envelope = Envelope(id=request.id)
    envelope.error.reason = reason
    envelope.error.message = message
    envelope.error.metadata.update(metadata)
    return envelope


Handler = Callable[["FakeHost", Envelope], Optional[List[Envelope]]]


class FakeHost:
    """``tool`` is the SDK's end. Each request read is recorded in ``requests`` (and its raw
    frame in ``frames``), then passed to ``handler``, whose returned replies are sent."""

    def __init__(self, handler: Optional[Handler] = None) -> None:
        self.tool, self.host = socket.socketpair()
        self.handler = handler
        self.requests: List[Envelope] = []
        self.frames: List[bytes] = []
        self.received = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _recv_exact(self, n: int) -> Optional[bytes]:
        data = b""
        while len(data) < n:
            chunk = self.host.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def _run(self) -> None:
        try:
            while True:
                header = self._recv_exact(4)
                if header is None:
                    return
                body = self._recv_exact(struct.unpack(">I", header)[0])
                if body is None:
                    return
                request = Envelope.FromString(body)
                with self.received:
                    self.requests.append(request)
                    self.frames.append(header + body)
                    self.received.notify_all()
                for answer in (self.handler(self, request) if self.handler else None) or []:
                    self.send(answer)
        except OSError:
            return

    def wait_for(self, count: int, timeout: float = 10) -> List[Envelope]:
        """The first ``count`` requests, once they have arrived."""
        with self.received:
            if not self.received.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"only {len(self.requests)} of {count} requests arrived")
            return list(self.requests[:count])

    def send(self, envelope: Envelope) -> None:
        self.host.sendall(frame(envelope))

    def send_raw(self, data: bytes) -> None:
        self.host.sendall(data)

    def close(self) -> None:
        """Closes the host's end: the SDK sees EOF."""
        try:
            self.host.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.host.close()
        if threading.current_thread() is not self.thread:
            self.thread.join(5)


class MiniHost:
    """A handler with a tiny host behind it: workspace files, scratch state, artifacts."""

    def __init__(self, chunk: int = 1 << 20) -> None:
        self.files: Dict[str, bytes] = {}
        self.kv: Dict[str, bytes] = {}
        self.sequence = 0
        self.chunk = chunk  # most bytes one ReadFileReply carries

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence - 1

    def __call__(self, host: FakeHost, req: Envelope) -> List[Envelope]:
        kind = req.WhichOneof("body")
        r = getattr(req, kind)
        if kind == "ping":
            return [reply(req, "pong")]
        if kind == "progress":
            return [reply(req, "progress_recorded", ipc_pb2.ProgressReply(sequence=self._next()))]
        if kind == "artifact":
            import hashlib
            data = r.data if r.WhichOneof("source") == "data" else self.files[r.workspace_path]
            return [reply(req, "artifact_recorded", ipc_pb2.ArtifactReply(
                sequence=self._next(), size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()))]
        if kind == "read_file":
            if r.path not in self.files:
                return [error(req, ipc_pb2.IPC_ERROR_NOT_FOUND, "no such file", path=r.path)]
            data = self.files[r.path]
            n = min(r.length or self.chunk, self.chunk)
            piece = data[r.offset:r.offset + n]
            return [reply(req, "file_data", ipc_pb2.ReadFileReply(
                data=piece, size_bytes=len(data), eof=r.offset + len(piece) >= len(data)))]
        if kind == "write_file":
            if r.create_only and r.path in self.files:
                return [error(req, ipc_pb2.IPC_ERROR_ALREADY_EXISTS, "exists", path=r.path)]
            self.files[r.path] = r.data
            return [reply(req, "file_written", ipc_pb2.WriteFileReply(size_bytes=len(r.data)))]
        if kind == "list_files":
            entries = [ipc_pb2.FileEntry(path=p, size_bytes=len(d), mode=0o644)
                       for p, d in sorted(self.files.items())]
            return [reply(req, "file_list", ipc_pb2.ListFilesReply(entries=entries, truncated=True))]
        if kind == "kv_get":
            found = r.key in self.kv
            return [reply(req, "kv_value", ipc_pb2.KvGetReply(found=found, value=self.kv.get(r.key, b"")))]
        if kind == "kv_put":
            self.kv[r.key] = r.value
            return [reply(req, "kv_stored")]
        if kind == "kv_delete":
            return [reply(req, "kv_deleted", ipc_pb2.KvDeleteReply(existed=self.kv.pop(r.key, None) is not None))]
        if kind == "kv_list":
            keys = sorted(k for k in self.kv if k.startswith(r.prefix))
            return [reply(req, "kv_keys", ipc_pb2.KvListReply(keys=keys))]
        if kind == "call_tool":
            result = ipc_pb2.CallToolReply()
            result.result.update({"tool": r.name, "echo": json_format.MessageToDict(r.arguments)})
            return [reply(req, "tool_result", result)]
        return [error(req, ipc_pb2.IPC_ERROR_UNKNOWN_REQUEST, "unknown")]
