import asyncio

import pytest

import paddock
import paddock.aio


def run(coro):
    return asyncio.run(coro)


def test_the_asyncio_client_runs_commands_and_files(server, key):
    async def main():
        async with paddock.aio.Client(server, api_key=key) as client:
            async with await client.create_session() as session:
                await session.files.write("in/x.txt", b"hello")
                out = await session.exec(["cat", "in/x.txt"])
                assert out.stdout == b"hello" and out.ok
                assert [f.path for f in await session.files.list("in")] == ["in/x.txt"]
                assert await session.files.read("in/x.txt") == b"hello"
                chunks = []
                async for event in session.exec_stream(["echo", "async"]):
                    if event.WhichOneof("event") == "output":
                        chunks.append(event.output.data)
                assert b"".join(chunks) == b"async\n"
                cat = await session.start(["cat"])
                await cat.write_stdin(b"fed")
                await cat.close_stdin()
                assert (await cat.wait()).stdout == b"fed"
    run(main())


def test_the_asyncio_client_raises_the_same_typed_errors(server, key):
    async def main():
        async with paddock.aio.Client(server, api_key=key, timeout=0.5) as client:
            with pytest.raises(paddock.NotFound) as missing:
                await client.session("ses_nope")
            assert missing.value.reason == "SESSION_NOT_FOUND" and missing.value.request_id.startswith("req_")
            async with await client.create_session() as session:
                with pytest.raises(paddock.DeadlineExceeded):
                    await session.exec(["sleep", "5"], timeout=0.5)
                # Leaving the loop early cancels the call.
                async for event in session.exec_stream(["sh", "-c", "echo first; sleep 60"]):
                    if event.WhichOneof("event") == "output":
                        break
                assert (await session.exec(["true"])).ok
    run(main())
