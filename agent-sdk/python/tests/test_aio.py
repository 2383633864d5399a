"""Tests of AsyncChannel against a fake host."""
import asyncio
import os
import threading
import unittest
from unittest import mock

import paddock_agent
from paddock.ipc.v1 import ipc_pb2

from fakehost import FakeHost, MiniHost, error, reply


def gather_then_answer(count, answer):
    """A handler that holds requests until ``count`` have arrived, then answers them, last first."""
    lock = threading.Lock()
    batch = []

    def handler(host, req):
        with lock:
            batch.append(req)
            if len(batch) < count:
                return None
            answers = [answer(r) for r in batch]
            batch.clear()
        answers.reverse()
        return answers
    return handler


class AsyncChannelTest(unittest.TestCase):
    def start(self, handler=None, **kwargs):
        self.host = FakeHost(handler)
        self.addCleanup(self.host.close)
        return paddock_agent.AsyncChannel(self.host.tool, **kwargs)

    def run_async(self, coroutine):
        return asyncio.run(asyncio.wait_for(coroutine, 30))

    def test_concurrent_calls_answered_out_of_order(self):
        def answer(r):
            return reply(r, "kv_value", ipc_pb2.KvGetReply(found=True, value=r.kv_get.key.encode()))
        channel = self.start(gather_then_answer(10, answer))

        async def main():
            async with channel:
                for _ in range(5):
                    keys = [f"k{i}" for i in range(10)]
                    values = await asyncio.gather(*(channel.kv_get(k) for k in keys))
                    self.assertEqual(values, [k.encode() for k in keys])
        self.run_async(main())
        self.assertEqual(len({r.id for r in self.host.requests}), 50)

    def test_every_method(self):
        mini = MiniHost(chunk=4)
        mini.files["f"] = b"0123456789"
        channel = self.start(mini)

        async def main():
            async with channel:
                self.assertIsNone(await channel.ping())
                self.assertEqual(await channel.progress("p", 1.0), 0)
                self.assertEqual((await channel.artifact("a", path="f")).size_bytes, 10)
                self.assertEqual(await channel.read_file("f"), b"0123456789")
                self.assertEqual(await channel.read_file("f", 2, 5), b"23456")
                self.assertEqual(await channel.write_file("g", "é", make_parents=True), 2)
                self.assertEqual([e.path for e in await channel.list_files()], ["f", "g"])
                self.assertIsNone(await channel.kv_put("k", b"v"))
                self.assertEqual(await channel.kv_get("k"), b"v")
                self.assertIsNone(await channel.kv_get("nope"))
                self.assertEqual(await channel.kv_list("k"), ["k"])
                self.assertTrue(await channel.kv_delete("k"))
                self.assertEqual(await channel.call_tool("t", {"x": "y"}), {"tool": "t", "echo": {"x": "y"}})
        self.run_async(main())
        sent = [r.WhichOneof("body") for r in self.host.requests]
        self.assertEqual(sent[:4], ["ping", "progress", "artifact", "read_file"])
        self.assertEqual(self.host.requests[1].progress.fraction, 1.0)

    def test_errors_are_mapped(self):
        channel = self.start(lambda host, req: [error(req, ipc_pb2.IPC_ERROR_NOT_FOUND, "gone", key="k")])

        async def main():
            async with channel:
                results = await asyncio.gather(channel.kv_get("k"), channel.ping(), return_exceptions=True)
            for e in results:
                self.assertIsInstance(e, paddock_agent.NotFound)
                self.assertEqual((e.reason, e.message, e.metadata), ("NOT_FOUND", "gone", {"key": "k"}))
        self.run_async(main())

    def test_a_frame_over_the_limit_is_refused_locally(self):
        channel = self.start(lambda host, req: [reply(req, "pong")], max_frame=64)

        async def main():
            async with channel:
                with self.assertRaises(paddock_agent.PayloadTooLarge):
                    await channel.kv_put("k", b"v" * 64)
                await channel.ping()
        self.run_async(main())
        self.assertEqual([r.WhichOneof("body") for r in self.host.requests], ["ping"])

    def test_eof_fails_every_pending_call(self):
        channel = self.start()

        async def main():
            calls = [asyncio.ensure_future(channel.kv_get(str(i))) for i in range(4)]
            await asyncio.get_running_loop().run_in_executor(None, self.host.wait_for, 4)
            self.host.close()
            results = await asyncio.gather(*calls, return_exceptions=True)
            for e in results:
                self.assertIsInstance(e, paddock_agent.ChannelClosed)
            with self.assertRaises(paddock_agent.ChannelClosed):
                await channel.ping()
            await channel.close()
        self.run_async(main())

    def test_close_fails_pending_calls(self):
        channel = self.start()

        async def main():
            call = asyncio.ensure_future(channel.ping())
            await asyncio.get_running_loop().run_in_executor(None, self.host.wait_for, 1)
            await channel.close()
            with self.assertRaises(paddock_agent.ChannelClosed):
                await call
        self.run_async(main())

    def test_a_reply_of_the_wrong_type_is_a_protocol_error(self):
        channel = self.start(lambda host, req: [reply(req, "pong")])

        async def main():
            async with channel:
                with self.assertRaises(paddock_agent.ProtocolError):
                    await channel.kv_list()
                with self.assertRaises(paddock_agent.ChannelClosed):
                    await channel.ping()
        self.run_async(main())

    def test_from_env(self):
        host = FakeHost(lambda host, req: [reply(req, "pong")])
        self.addCleanup(host.close)
        with mock.patch.dict(os.environ, {"PADDOCK_IPC_FD": str(host.tool.detach())}):
            channel = paddock_agent.AsyncChannel.from_env()

        async def main():
            async with channel:
                await channel.ping()
        self.run_async(main())
        with mock.patch.dict(os.environ, clear=True):
            with self.assertRaises(paddock_agent.NoChannel):
                paddock_agent.AsyncChannel.from_env()


if __name__ == "__main__":
    unittest.main()
