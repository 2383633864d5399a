"""Requests and their replies, shared by the sync and asyncio channels.

Each builder returns an :data:`Op`: the request ``Envelope`` (id not yet set), the name of the
reply field that answers it, and a function turning that reply message into the value the
caller gets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from paddock.ipc.v1 import ipc_pb2

Op = Tuple[ipc_pb2.Envelope, str, Callable[[Any], Any]]
Data = Union[bytes, bytearray, memoryview, str]


@dataclass(frozen=True)
class ArtifactInfo:
    """A recorded artifact.

    Attributes:
        sequence: Position among this exec's progress and artifact events, from 0.
        size_bytes: Size of the stored artifact, bytes.
        sha256: SHA-256 of the content, lowercase hex.
    """
    sequence: int
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class FileEntry:
    """One entry of a workspace directory.

    Attributes:
        path: Path relative to /workspace.
        directory: True for a directory.
        symlink: True for a symbolic link (not followed).
        size_bytes: Size in bytes (0 for directories).
        mode: Unix permission bits, e.g. ``0o644``.
    """
    path: str
    directory: bool
    symlink: bool
    size_bytes: int
    mode: int


class FileList(List[FileEntry]):
    """The entries of a directory, sorted by name; ``truncated`` is True when the directory has
    more entries than the host returns (10000)."""
    truncated: bool = False


@dataclass(frozen=True)
class Navigation:
    """How a navigation ended.

    Attributes:
        url: The page's URL after redirects; "" when it did not load.
        http_status: HTTP status of the main document; 0 when there was none.
        title: The page's title.
        error_text: Why the page did not load (e.g. "net::ERR_CONNECTION_REFUSED"); "" when it did.
    """
    url: str
    http_status: int
    title: str
    error_text: str

    @property
    def ok(self) -> bool:
        """True when the page loaded (whatever its HTTP status)."""
        return not self.error_text


@dataclass(frozen=True)
class Evaluation:
    """What a script evaluated to.

    Attributes:
        result_json: Its value as JSON; "" when it has none JSON can hold, or it threw.
        exception: The exception's text when it threw, else "".
    """
    result_json: str
    exception: str

    @property
    def value(self) -> Any:
        """The value, parsed (None for "")."""
        import json
        return json.loads(self.result_json) if self.result_json else None


def _bytes(data: Data) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _request(field: str) -> Tuple[ipc_pb2.Envelope, Any]:
    """A new Envelope with request ``field`` set (empty), and that request, to fill in place."""
    envelope = ipc_pb2.Envelope()
    request = getattr(envelope, field)
    request.SetInParent()
    return envelope, request


def _none(_reply: Any) -> None:
    return None


def _sequence(reply: Any) -> int:
    return reply.sequence


def ping() -> Op:
    return _request("ping")[0], "pong", _none


def progress(message: str, fraction: Optional[float]) -> Op:
    envelope, request = _request("progress")
    request.message = message
    if fraction is not None:
        request.fraction = fraction
    return envelope, "progress_recorded", _sequence


def artifact(name: str, data: Optional[Data], path: Optional[str], content_type: str) -> Op:
    if (data is None) == (path is None):
        raise ValueError("artifact() needs exactly one of data= and path=")
    envelope, request = _request("artifact")
    request.name = name
    if path is not None:
        request.workspace_path = path
    else:
        request.data = _bytes(data)  # type: ignore[arg-type]
    request.content_type = content_type
    return envelope, "artifact_recorded", lambda r: ArtifactInfo(r.sequence, r.size_bytes, r.sha256)


def read_chunk(path: str, offset: int, length: int) -> Op:
    """One ReadFileRequest; the value is the ReadFileReply itself (``length`` 0 = host's limit)."""
    envelope, request = _request("read_file")
    request.path = path
    request.offset = offset
    request.length = length
    return envelope, "file_data", lambda r: r


class FileReader:
    """The chunked reads of ``read_file``: ``next()`` gives the next Op (whose value is fed back
    with ``feed``) until it gives None; then ``data`` is the content."""

    def __init__(self, path: str, offset: int, length: Optional[int]) -> None:
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        self.path, self.offset, self.remaining = path, offset, length
        self.chunks: List[bytes] = []
        self.done = length == 0

    def next(self) -> Optional[Op]:
        return None if self.done else read_chunk(self.path, self.offset, self.remaining or 0)

    def feed(self, reply: Any) -> None:
        data = reply.data
        self.chunks.append(data)
        self.offset += len(data)
        if self.remaining is not None:
            self.remaining -= len(data)
        self.done = reply.eof or not data or self.remaining == 0

    @property
    def data(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


def write_file(path: str, data: Data, mode: int, make_parents: bool, create_only: bool) -> Op:
    envelope, request = _request("write_file")
    request.path = path
    request.data = _bytes(data)
    request.mode = mode
    request.make_parents = make_parents
    request.create_only = create_only
    return envelope, "file_written", lambda r: r.size_bytes


def _file_list(reply: Any) -> FileList:
    entries = FileList(FileEntry(e.path, e.directory, e.symlink, e.size_bytes, e.mode)
                       for e in reply.entries)
    entries.truncated = reply.truncated
    return entries


def list_files(path: str) -> Op:
    envelope, request = _request("list_files")
    request.path = path
    return envelope, "file_list", _file_list


def kv_get(key: str) -> Op:
    envelope, request = _request("kv_get")
    request.key = key
    return envelope, "kv_value", lambda r: r.value if r.found else None


def kv_put(key: str, value: Data) -> Op:
    envelope, request = _request("kv_put")
    request.key = key
    request.value = _bytes(value)
    return envelope, "kv_stored", _none


def kv_delete(key: str) -> Op:
    envelope, request = _request("kv_delete")
    request.key = key
    return envelope, "kv_deleted", lambda r: r.existed


def kv_list(prefix: str) -> Op:
    envelope, request = _request("kv_list")
    request.prefix = prefix
    return envelope, "kv_keys", lambda r: list(r.keys)


def _struct_to_dict(reply: Any) -> Dict[str, Any]:
    from google.protobuf import json_format  # imported on first use: it is slow to import
    return json_format.MessageToDict(reply.result)


def call_tool(name: str, arguments: Optional[Mapping[str, Any]]) -> Op:
    envelope, request = _request("call_tool")
    request.name = name
    request.arguments.SetInParent()
    if arguments:
        request.arguments.update(arguments)
    return envelope, "tool_result", _struct_to_dict


def _timeout_ms(timeout: Optional[float]) -> int:
    """Seconds (None: the host's 30) as the request's milliseconds (0: the host's default)."""
    if timeout is None:
        return 0
    if timeout <= 0:
        raise ValueError("timeout must be more than 0 seconds")
    return max(1, int(timeout * 1000))


def _browser(browser_id: str, action: str, convert: Callable[[Any], Any], **fields: Any) -> Op:
    envelope, request = _request("browser")
    request.browser_id = browser_id
    act = getattr(request, action)
    act.SetInParent()
    for name, value in fields.items():
        setattr(act, name, value)
    return envelope, "browser_result", convert


def browser_open(provider: str) -> Op:
    return _browser("", "open", lambda r: (r.browser_id, r.provider), provider=provider)


def browser_navigate(browser_id: str, url: str, timeout: Optional[float]) -> Op:
    return _browser(browser_id, "navigate", lambda r: Navigation(r.url, r.http_status, r.title, r.error_text),
                    url=url, timeout_ms=_timeout_ms(timeout))


def browser_screenshot(browser_id: str) -> Op:
    return _browser(browser_id, "screenshot", lambda r: r.png)


def browser_content(browser_id: str, html: bool) -> Op:
    return _browser(browser_id, "content", lambda r: r.content, html=html)


def browser_click(browser_id: str, selector: str, count: int, timeout: Optional[float]) -> Op:
    return _browser(browser_id, "click", _none, selector=selector, click_count=count,
                    timeout_ms=_timeout_ms(timeout))


def browser_type(browser_id: str, selector: str, text: str, secret: Optional[str], clear: bool,
                 timeout: Optional[float]) -> Op:
    return _browser(browser_id, "type", _none, selector=selector, text=text, secret=secret or "",
                    clear=clear, timeout_ms=_timeout_ms(timeout))


def browser_evaluate(browser_id: str, expression: str, timeout: Optional[float]) -> Op:
    return _browser(browser_id, "evaluate", lambda r: Evaluation(r.result_json, r.exception),
                    expression=expression, timeout_ms=_timeout_ms(timeout))


def browser_close(browser_id: str) -> Op:
    return _browser(browser_id, "close", _none)
