"""Tests of the synchronous Channel against a fake host."""
import os
import random
import socket
import struct
import threading
import time
import unittest
from unittest import mock

import paddock_agent
from paddock.ipc.v1 import ipc_pb2

from fakehost import Envelope, FakeHost, MiniHost, error, frame, reply


def pong(host, req):
    return [reply(req, "pong")]


class ChannelTestCase(unittest.TestCase):
    def start(self, handler=None, **kwargs):
        self.host = FakeHost(handler)
        self.channel = paddock_agent.Channel(self.host.tool, **kwargs)
        self.addCleanup(self.host.close)
        self.addCleanup(self.channel.close)
        return self.channel


class FramingTest(ChannelTestCase):
    def test_a_request_is_a_big_endian_length_and_an_envelope(self):
        self.start(pong).ping()
        raw = self.host.frames[0]
        self.assertEqual(struct.unpack(">I", raw[:4])[0], len(raw) - 4)
        sent = Envelope.FromString(raw[4:])
        self.assertEqual(sent.WhichOneof("body"), "ping")
        self.assertGreater(sent.id, 0)

    def test_each_request_has_a_fresh_id(self):
        channel = self.start(pong)
        for _ in range(5):
            channel.ping()
        ids = [r.id for r in self.host.requests]
        self.assertEqual(len(set(ids)), 5)

    def test_a_reply_split_into_pieces_is_reassembled(self):
        def slowly(host, req):
            data = frame(reply(req, "progress_recorded", ipc_pb2.ProgressReply(sequence=7)))
            for i in range(len(data)):
                host.send_raw(data[i:i + 1])
                time.sleep(0.001)
        self.assertEqual(self.start(slowly).progress("x"), 7)

    def test_replies_coalesced_in_one_write_reach_their_callers(self):
        def both(host, req):
            if len(host.requests) == 2:
                a, b = host.requests
                host.send_raw(frame(reply(b, "kv_value", ipc_pb2.KvGetReply(found=True, value=b"B")))
                              + frame(reply(a, "kv_value", ipc_pb2.KvGetReply(found=True, value=b"A"))))
        channel = self.start(both)
        results = {}
        t = threading.Thread(target=lambda: results.setdefault("a", channel.kv_get("a")))
        t.start()
        self.host.wait_for(1)
        self.assertEqual(channel.kv_get("b"), b"B")
        t.join(10)
        self.assertEqual(results["a"], b"A")


class MethodsTest(ChannelTestCase):
    def setUp(self):
        self.mini = MiniHost(chunk=10)
        self.start(self.mini)

    def last(self, kind):
        request = self.host.requests[-1]
        self.assertEqual(request.WhichOneof("body"), kind)
        return getattr(request, kind)

    def test_ping(self):
        self.assertIsNone(self.channel.ping())
        self.last("ping")

    def test_progress(self):
        self.assertEqual(self.channel.progress("step 1", 0.5), 0)
        sent = self.last("progress")
        self.assertEqual((sent.message, sent.fraction), ("step 1", 0.5))
        self.assertEqual(self.channel.progress(), 1)
        sent = self.last("progress")
        self.assertEqual(sent.message, "")
        self.assertFalse(sent.HasField("fraction"))
        self.channel.progress(fraction=0.0)
        self.assertTrue(self.last("progress").HasField("fraction"))

    def test_artifact_from_data(self):
        info = self.channel.artifact("r.txt", b"hello", content_type="text/plain")
        self.assertEqual(info, paddock_agent.ArtifactInfo(
            0, 5, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
        sent = self.last("artifact")
        self.assertEqual((sent.name, sent.data, sent.content_type), ("r.txt", b"hello", "text/plain"))
        self.assertEqual(sent.WhichOneof("source"), "data")
        self.assertEqual(self.channel.artifact("s", "é").size_bytes, 2)

    def test_artifact_from_a_workspace_file(self):
        self.mini.files["out/a.bin"] = b"abc"
        self.assertEqual(self.channel.artifact("a", path="out/a.bin").size_bytes, 3)
        sent = self.last("artifact")
        self.assertEqual((sent.WhichOneof("source"), sent.workspace_path), ("workspace_path", "out/a.bin"))
        self.assertEqual(sent.content_type, "")

    def test_artifact_needs_exactly_one_source(self):
        with self.assertRaises(ValueError):
            self.channel.artifact("a")
        with self.assertRaises(ValueError):
            self.channel.artifact("a", b"x", path="p")
        self.assertEqual(self.host.requests, [])

    def test_read_file_whole_in_chunks(self):
        content = bytes(range(256)) * 3
        self.mini.files["f"] = content
        self.assertEqual(self.channel.read_file("f"), content)
        reads = [r.read_file for r in self.host.requests]
        self.assertEqual(len(reads), 77)  # 768 bytes in chunks of 10
        self.assertEqual([r.offset for r in reads[:3]], [0, 10, 20])
        self.assertTrue(all(r.length == 0 and r.path == "f" for r in reads))

    def test_read_file_range(self):
        self.mini.files["f"] = b"0123456789abcdefghijklmnopqrstuvwxyz"
        self.assertEqual(self.channel.read_file("f", 5, 3), b"567")
        self.assertEqual((self.last("read_file").offset, self.last("read_file").length), (5, 3))
        self.assertEqual(self.channel.read_file("f", 30), b"uvwxyz")
        self.assertEqual(self.channel.read_file("f", 8, 25), b"89abcdefghijklmnopqrstuvw")
        self.assertEqual([r.read_file.length for r in self.host.requests[-3:]], [25, 15, 5])
        self.assertEqual(self.channel.read_file("f", 40), b"")
        count = len(self.host.requests)
        self.assertEqual(self.channel.read_file("f", 0, 0), b"")
        self.assertEqual(len(self.host.requests), count)  # nothing to ask

    def test_read_file_empty(self):
        self.mini.files["e"] = b""
        self.assertEqual(self.channel.read_file("e"), b"")

    def test_write_file(self):
        self.assertEqual(self.channel.write_file("a/b.txt", "héllo", make_parents=True), 6)
        sent = self.last("write_file")
        self.assertEqual((sent.path, sent.data, sent.mode, sent.make_parents, sent.create_only),
                         ("a/b.txt", "héllo".encode(), 0o644, True, False))
        self.channel.write_file("x", b"\x00", mode=0o600)
        self.assertEqual(self.last("write_file").mode, 0o600)
        with self.assertRaises(paddock_agent.AlreadyExists) as caught:
            self.channel.write_file("x", b"", create_only=True)
        self.assertEqual(caught.exception.metadata, {"path": "x"})
        self.assertTrue(self.last("write_file").create_only)

    def test_list_files(self):
        self.mini.files.update({"a": b"12", "b": b""})
        entries = self.channel.list_files("dir")
        self.assertEqual(self.last("list_files").path, "dir")
        self.assertEqual(entries, [paddock_agent.FileEntry("a", False, False, 2, 0o644),
                                   paddock_agent.FileEntry("b", False, False, 0, 0o644)])
        self.assertTrue(entries.truncated)
        self.channel.list_files()
        self.assertEqual(self.last("list_files").path, "")

    def test_kv(self):
        self.assertIsNone(self.channel.kv_get("k"))
        self.assertIsNone(self.channel.kv_put("k", "v"))
        self.assertEqual(self.last("kv_put").value, b"v")
        self.channel.kv_put("k2", b"\x00\x01")
        self.channel.kv_put("other", b"")
        self.assertEqual(self.channel.kv_get("k2"), b"\x00\x01")
        self.assertEqual(self.channel.kv_get("other"), b"")
        self.assertEqual(self.channel.kv_list("k"), ["k", "k2"])
        self.assertEqual(self.last("kv_list").prefix, "k")
        self.assertEqual(self.channel.kv_list(), ["k", "k2", "other"])
        self.assertTrue(self.channel.kv_delete("k"))
        self.assertFalse(self.channel.kv_delete("k"))
        self.assertEqual(self.last("kv_delete").key, "k")

    def test_call_tool(self):
        result = self.channel.call_tool("browser.open", {"url": "https://x", "n": 2, "opts": {"a": [1, True]}})
        self.assertEqual(result, {"tool": "browser.open",
                                  "echo": {"url": "https://x", "n": 2.0, "opts": {"a": [1.0, True]}}})
        sent = self.last("call_tool")
        self.assertEqual(sent.name, "browser.open")
        self.assertEqual(sent.arguments["url"], "https://x")
        self.assertEqual(self.channel.call_tool("t"), {"tool": "t", "echo": {}})
        self.assertTrue(self.last("call_tool").HasField("arguments"))


class BrowserTest(ChannelTestCase):
    """The browser calls' requests, and their replies as values (a host that answers by action)."""

    @staticmethod
    def answer(host, req):
        b = req.browser
        action = b.WhichOneof("action")
        if action == "open":
            return [reply(req, "browser_result", ipc_pb2.BrowserReply(browser_id="brw_1", provider="local"))]
        if b.browser_id != "brw_1":
            return [error(req, ipc_pb2.IPC_ERROR_NOT_FOUND, "no such browser")]
        if action == "navigate":
            return [reply(req, "browser_result", ipc_pb2.BrowserReply(
                browser_id="brw_1", url=b.navigate.url, http_status=200, title="T"))]
        if action == "screenshot":
            return [reply(req, "browser_result", ipc_pb2.BrowserReply(png=b"\x89PNG..."))]
        if action == "content":
            return [reply(req, "browser_result", ipc_pb2.BrowserReply(content="<html>" if b.content.html else "text"))]
        if action == "evaluate":
            return [reply(req, "browser_result", ipc_pb2.BrowserReply(result_json='{"a": [1]}'))]
        if action == "click" and b.click.selector == "#late":
            return [error(req, ipc_pb2.IPC_ERROR_NOT_FOUND, "no element", selector="#late")]
        return [reply(req, "browser_result", ipc_pb2.BrowserReply(browser_id="brw_1"))]

    def sent(self, action):
        request = self.host.requests[-1].browser
        self.assertEqual(request.WhichOneof("action"), action)
        return request

    def test_a_browser_is_driven_by_typed_requests(self):
        channel = self.start(self.answer)
        with channel.open_browser("local") as browser:
            self.assertEqual((browser.id, browser.provider), ("brw_1", "local"))
            self.assertEqual(self.sent("open").open.provider, "local")
            n = browser.navigate("https://example.test/", timeout=2.5)
            self.assertEqual(n, paddock_agent.Navigation("https://example.test/", 200, "T", ""))
            self.assertTrue(n.ok)
            self.assertEqual(self.sent("navigate").navigate.timeout_ms, 2500)
            self.assertEqual(browser.screenshot(), b"\x89PNG...")
            self.assertEqual((browser.text(), browser.html()), ("text", "<html>"))
            self.assertEqual(browser.evaluate("x").value, {"a": [1]})
            browser.type("#q", "secret", clear=True)
            typed = self.sent("type").type
            self.assertEqual((typed.selector, typed.text, typed.clear, typed.timeout_ms), ("#q", "secret", True, 0))
            browser.type("#pass", secret="SHOP_PASSWORD")
            typed = self.sent("type").type
            self.assertEqual((typed.selector, typed.text, typed.secret), ("#pass", "", "SHOP_PASSWORD"))
            browser.click("#go", count=2)
            self.assertEqual(self.sent("click").click.click_count, 2)
            with self.assertRaises(paddock_agent.NotFound) as caught:
                browser.click("#late")
            self.assertEqual(caught.exception.metadata["selector"], "#late")
            with self.assertRaises(ValueError):
                browser.navigate("https://example.test/", timeout=0)
        self.assertEqual(self.sent("close").browser_id, "brw_1")

    def test_an_evaluation_that_threw_has_no_value(self):
        self.assertIsNone(paddock_agent.Evaluation("", "Error: boom").value)


class PipeliningTest(ChannelTestCase):
    def test_threads_get_their_own_replies_when_answered_out_of_order(self):
        threads = 8
        rounds = 20
        lock = threading.Lock()
        batch = []

        def shuffled(host, req):
            with lock:
                batch.append(req)
                if len(batch) < threads:
                    return None
                answers = [reply(r, "kv_value", ipc_pb2.KvGetReply(found=True, value=r.kv_get.key.encode()))
                           for r in batch]
                batch.clear()
            random.shuffle(answers)
            return answers

        channel = self.start(shuffled)
        barrier = threading.Barrier(threads)
        failures = []

        def worker(n):
            try:
                for i in range(rounds):
                    barrier.wait(10)
                    key = f"t{n}-{i}"
                    value = channel.kv_get(key)
                    if value != key.encode():
                        failures.append((key, value))
            except Exception as e:  # reported below
                failures.append(e)

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
        self.assertEqual(failures, [])
        self.assertEqual(len(self.host.requests), threads * rounds)
        self.assertEqual(len({r.id for r in self.host.requests}), threads * rounds)

    def test_a_reply_nobody_waits_for_is_dropped(self):
        def extra(host, req):
            return [reply(Envelope(id=987654), "pong"), reply(req, "pong")]
        channel = self.start(extra)
        channel.ping()
        channel.ping()


class ErrorsTest(ChannelTestCase):
    CLASSES = {
        "IPC_ERROR_INVALID_ARGUMENT": paddock_agent.InvalidArgument,
        "IPC_ERROR_PERMISSION_DENIED": paddock_agent.PermissionDenied,
        "IPC_ERROR_NOT_FOUND": paddock_agent.NotFound,
        "IPC_ERROR_ALREADY_EXISTS": paddock_agent.AlreadyExists,
        "IPC_ERROR_PAYLOAD_TOO_LARGE": paddock_agent.PayloadTooLarge,
        "IPC_ERROR_RESOURCE_EXHAUSTED": paddock_agent.ResourceExhausted,
        "IPC_ERROR_RATE_LIMITED": paddock_agent.RateLimited,
        "IPC_ERROR_WORKSPACE_FULL": paddock_agent.WorkspaceFull,
        "IPC_ERROR_NOT_AVAILABLE": paddock_agent.NotAvailable,
        "IPC_ERROR_UNKNOWN_REQUEST": paddock_agent.UnknownRequest,
        "IPC_ERROR_FAILED_PRECONDITION": paddock_agent.FailedPrecondition,
        "IPC_ERROR_INTERNAL": paddock_agent.InternalError,
        "IPC_ERROR_DEADLINE_EXCEEDED": paddock_agent.DeadlineExceeded,
    }

    def test_every_reason_has_its_exception(self):
        reasons = [n for n in ipc_pb2.IpcErrorReason.keys() if n != "IPC_ERROR_UNSPECIFIED"]
        self.assertEqual(sorted(reasons), sorted(self.CLASSES))

        def failing(host, req):
            reason = req.kv_get.key
            return [error(req, ipc_pb2.IpcErrorReason.Value(reason), f"it failed: {reason}",
                          key=reason, limit="7")]
        channel = self.start(failing)
        for reason, cls in self.CLASSES.items():
            with self.subTest(reason=reason):
                with self.assertRaises(cls) as caught:
                    channel.kv_get(reason)
                e = caught.exception
                self.assertIsInstance(e, paddock_agent.PaddockError)
                self.assertIs(type(e), cls)
                self.assertEqual(e.reason, reason[len("IPC_ERROR_"):])
                self.assertEqual(e.message, f"it failed: {reason}")
                self.assertEqual(e.metadata, {"key": reason, "limit": "7"})
                self.assertIn(e.reason, str(e))
                self.assertIn("limit=7", str(e))

    def test_an_unknown_reason_is_a_plain_paddock_error(self):
        channel = self.start(lambda host, req: [error(req, 77, "new")])
        with self.assertRaises(paddock_agent.PaddockError) as caught:
            channel.ping()
        self.assertIs(type(caught.exception), paddock_agent.PaddockError)
        self.assertEqual((caught.exception.reason, caught.exception.message), ("77", "new"))

    def test_an_error_fails_only_its_request(self):
        answers = iter([lambda req: error(req, ipc_pb2.IPC_ERROR_RATE_LIMITED, "slow down"),
                        lambda req: reply(req, "pong")])
        channel = self.start(lambda host, req: [next(answers)(req)])
        with self.assertRaises(paddock_agent.RateLimited):
            channel.ping()
        channel.ping()

    def test_a_reply_of_the_wrong_type_is_a_protocol_error_and_closes_the_channel(self):
        channel = self.start(lambda host, req: [reply(req, "kv_stored")])
        with self.assertRaises(paddock_agent.ProtocolError):
            channel.ping()
        with self.assertRaises(paddock_agent.ChannelClosed):
            channel.ping()


class LimitsTest(ChannelTestCase):
    def test_a_frame_over_the_limit_is_refused_locally(self):
        channel = self.start(pong, max_frame=100)
        with self.assertRaises(paddock_agent.PayloadTooLarge) as caught:
            channel.write_file("f", b"x" * 100)
        self.assertEqual(caught.exception.metadata["field"], "frame")
        self.assertEqual(caught.exception.metadata["limitBytes"], "100")
        channel.ping()  # still usable, and the host saw only the ping
        self.assertEqual([r.WhichOneof("body") for r in self.host.requests], ["ping"])

    def test_a_frame_at_the_limit_is_sent(self):
        channel = self.start(lambda host, req: [reply(req, "file_written")], max_frame=100)
        probe = Envelope(id=1)
        probe.write_file.path = "f"
        probe.write_file.mode = 0o644
        overhead = len(probe.SerializeToString()) + 2  # tag and length of data
        channel.write_file("f", b"x" * (100 - overhead))
        self.assertEqual(len(self.host.frames[0]), 104)

    def test_big_frames_both_ways(self):
        channel = self.start(MiniHost(chunk=4 * 1024 * 1024 - 1024))
        content = os.urandom(1024) * 3 * 1024  # 3 MiB
        self.assertEqual(channel.write_file("big", content), len(content))
        self.assertEqual(channel.read_file("big"), content)
        self.assertEqual(channel.read_file("big", 5, 3), content[5:8])

    @mock.patch.dict(os.environ, {"PADDOCK_IPC_MAX_FRAME": "1234"})
    def test_the_limit_comes_from_the_environment(self):
        self.assertEqual(self.start(pong).max_frame, 1234)

    @mock.patch.dict(os.environ, {"PADDOCK_IPC_MAX_FRAME": ""})
    def test_the_default_limit_is_4_mib(self):
        self.assertEqual(self.start(pong).max_frame, 4194304)

    def test_a_host_frame_over_the_limit_is_a_protocol_error(self):
        channel = self.start(lambda host, req: host.send_raw(struct.pack(">I", 101) + b"\x00" * 101), max_frame=100)
        with self.assertRaises(paddock_agent.ProtocolError):
            channel.ping()
        with self.assertRaises(paddock_agent.ChannelClosed):
            channel.ping()

    def test_a_host_frame_that_is_not_an_envelope_is_a_protocol_error(self):
        channel = self.start(lambda host, req: host.send_raw(struct.pack(">I", 3) + b"\xff\xff\xff"))
        with self.assertRaises(paddock_agent.ProtocolError):
            channel.ping()


class ClosedTest(ChannelTestCase):
    def test_eof_fails_every_waiting_call_and_every_later_one(self):
        channel = self.start()  # answers nothing
        outcomes = []

        def call():
            try:
                channel.kv_get("k")
                outcomes.append("answered")
            except paddock_agent.ChannelClosed as e:
                outcomes.append(e)

        threads = [threading.Thread(target=call) for _ in range(5)]
        for t in threads:
            t.start()
        self.host.wait_for(5)
        self.host.close()
        for t in threads:
            t.join(10)
        self.assertEqual(len(outcomes), 5)
        for outcome in outcomes:
            self.assertIsInstance(outcome, paddock_agent.ChannelClosed)
            self.assertEqual(outcome.reason, "CHANNEL_CLOSED")
        with self.assertRaises(paddock_agent.ChannelClosed):
            channel.ping()

    def test_eof_in_the_middle_of_a_reply(self):
        def truncated(host, req):
            host.send_raw(frame(reply(req, "pong"))[:-1] + b"\x00\x00")
            host.close()
        with self.assertRaises(paddock_agent.ChannelClosed):
            self.start(truncated).kv_list()

    def test_close_wakes_a_waiting_call(self):
        channel = self.start()
        outcome = []
        t = threading.Thread(target=lambda: outcome.append(self.assertRaises(
            paddock_agent.ChannelClosed, channel.ping)))
        t.start()
        self.host.wait_for(1)
        channel.close()
        t.join(10)
        self.assertFalse(t.is_alive())
        with self.assertRaises(paddock_agent.ChannelClosed):
            channel.ping()

    def test_context_manager_closes(self):
        with self.start(pong) as channel:
            channel.ping()
        with self.assertRaises(paddock_agent.ChannelClosed):
            channel.ping()


class FromEnvTest(unittest.TestCase):
    def setUp(self):
        self.saved = os.environ.get("PADDOCK_IPC_FD")
        self.addCleanup(self.restore)
        paddock_agent._default = None
        self.addCleanup(setattr, paddock_agent, "_default", None)

    def restore(self):
        if self.saved is None:
            os.environ.pop("PADDOCK_IPC_FD", None)
        else:
            os.environ["PADDOCK_IPC_FD"] = self.saved

    def assert_no_channel(self, value):
        if value is None:
            os.environ.pop("PADDOCK_IPC_FD", None)
        else:
            os.environ["PADDOCK_IPC_FD"] = value
        with self.assertRaises(paddock_agent.NoChannel) as caught:
            paddock_agent.Channel.from_env()
        self.assertIn("ExecRequest.ipc = true", caught.exception.message)
        self.assertIn("paddock exec --ipc", caught.exception.message)
        self.assertEqual(caught.exception.reason, "NO_CHANNEL")

    def test_unset(self):
        self.assert_no_channel(None)
        with self.assertRaises(paddock_agent.NoChannel):
            paddock_agent.ping()

    def test_not_a_number(self):
        self.assert_no_channel("three")

    def test_not_open(self):
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        self.assert_no_channel(str(r))

    def test_a_pipe(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        self.assert_no_channel(str(r))
        os.fstat(r)  # and left open

    def test_a_datagram_socket(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        self.assert_no_channel(str(a.fileno()))
        os.fstat(a.fileno())  # and left open

    def test_a_stream_socket_and_the_module_functions(self):
        host = FakeHost(MiniHost())
        self.addCleanup(host.close)
        os.environ["PADDOCK_IPC_FD"] = str(host.tool.detach())
        paddock_agent.ping()
        self.assertEqual(paddock_agent.progress("step 1", 0.5), 0)
        self.assertEqual(paddock_agent.artifact("a", b"xy", content_type="text/plain").size_bytes, 2)
        self.assertEqual(paddock_agent.write_file("f", "data", mode=0o600, create_only=True), 4)
        self.assertEqual(paddock_agent.read_file("f", 1), b"ata")
        self.assertEqual([e.path for e in paddock_agent.list_files()], ["f"])
        paddock_agent.kv_put("k", "v")
        self.assertEqual(paddock_agent.kv_get("k"), b"v")
        self.assertEqual(paddock_agent.kv_list(), ["k"])
        self.assertTrue(paddock_agent.kv_delete("k"))
        self.assertEqual(paddock_agent.call_tool("t", {"a": 1}), {"tool": "t", "echo": {"a": 1.0}})
        self.assertIs(paddock_agent.default_channel(), paddock_agent.default_channel())
        self.assertEqual(host.requests[-1].call_tool.arguments["a"], 1)
        paddock_agent.default_channel().close()


if __name__ == "__main__":
    unittest.main()
