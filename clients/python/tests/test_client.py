import socket
import threading
import time

import grpc
import pytest

import paddock
from paddock.v1 import exec_pb2, session_pb2


def test_a_session_runs_commands_and_closes_with_its_block(client):
    with client.create_session(labels={"suite": "python"}) as session:
        assert session.id.startswith("ses_") and len(session.id) == 36
        run = session.exec(["sh", "-c", "echo out; echo err >&2"])
        assert run.ok and run.exit_code == 0 and run.status == "OK"
        assert (run.stdout, run.stderr) == (b"out\n", b"err\n")
        assert run.exec_id.startswith("exe_")
        failed = session.exec("exit 3")  # a string runs under sh -c
        assert not failed.ok and failed.exit_code == 3
        piped = session.exec(["sh", "-c", 'cat; echo " $GREETING"'], env={"GREETING": "hi"}, stdin=b"from stdin")
        assert piped.text == "from stdin hi\n"
        session_id = session.id
    assert client.session(session_id).info.state == session_pb2.SESSION_STATE_CLOSED


def test_files_go_in_and_come_out(client, tmp_path):
    with client.create_session() as session:
        session.files.write("data/in.csv", b"a,b\n1,2\n")
        big = bytes(range(256)) * 4096
        local = tmp_path / "big.bin"
        local.write_bytes(big)
        assert session.files.upload(local, "data/big.bin").size_bytes == len(big)
        assert session.exec("wc -l < data/in.csv").text.strip() == "2"
        assert session.files.read("data/big.bin") == big
        session.files.download("data/in.csv", tmp_path / "back.csv")
        assert (tmp_path / "back.csv").read_bytes() == b"a,b\n1,2\n"
        assert sorted(f.path for f in session.files.list("data")) == ["data/big.bin", "data/in.csv"]
        session.files.remove("data/big.bin")
        assert session.files.stat("data/big.bin") is None


def test_streaming_output_arrives_in_order_as_it_happens(client):
    with client.create_session() as session:
        heard = []
        run = session.exec(["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.1; done"],
                           on_stdout=lambda data: heard.append((time.monotonic(), data)))
        assert run.stdout == b"1\n2\n3\n"
        assert b"".join(d for _, d in heard) == b"1\n2\n3\n"
        assert heard[-1][0] - heard[0][0] > 0.1  # not all at the end
        with session.exec_stream(["echo", "streamed"]) as events:
            kinds = [e.WhichOneof("event") for e in events]
        assert kinds[0] == "started" and kinds[-1] == "result" and "output" in kinds


def test_a_background_command_takes_stdin_and_signals(client):
    with client.create_session() as session:
        cat = session.start(["cat"])
        cat.write_stdin(b"line one\n")
        cat.close_stdin()
        assert cat.wait().stdout == b"line one\n"
        sleeper = session.start(["sleep", "60"])
        assert list(sleeper.info().argv) == ["sleep", "60"]
        assert sleeper.signal("TERM")
        assert sleeper.wait().status == "SIGNALED"


def test_each_typed_error_carries_the_hosts_reason_and_request_id(client, server, other_key, small_key, narrow_key):
    with pytest.raises(paddock.NotFound) as not_found:
        client.session("ses_nope")
    assert not_found.value.reason == "SESSION_NOT_FOUND"
    assert not_found.value.request_id.startswith("req_")
    assert not_found.value.metadata == {"sessionId": "ses_nope"}
    assert not_found.value.code == grpc.StatusCode.NOT_FOUND

    with client.create_session() as session:
        with paddock.Client(server, api_key=other_key) as other, pytest.raises(paddock.NotFound):
            other.session(session.id)  # another tenant's session is not found
        with pytest.raises(paddock.InvalidArgument) as outside:
            session.files.write("../../etc/x", b"x")
        assert outside.value.request_id.startswith("req_")
        session.files.write("once.txt", b"1")
        with pytest.raises(paddock.AlreadyExists) as exists:
            session.files.write("once.txt", b"2", overwrite=False)
        assert exists.value.request_id.startswith("req_") and session.files.read("once.txt") == b"1"
        with pytest.raises(paddock.InvalidArgument) as bad:
            session.exec(["true"], time_limit=-1)
        assert bad.value.violations and bad.value.violations[0].field == "time_limit"
    with pytest.raises(paddock.FailedPrecondition) as closed:
        session.exec(["true"])
    assert closed.value.reason == "SESSION_CLOSED"

    with paddock.Client(server, api_key="pdk_0000000000000000_nope") as stranger, pytest.raises(paddock.Unauthenticated):
        stranger.create_session()
    with paddock.Client(server, api_key=narrow_key) as narrow, narrow.create_session() as own:
        with pytest.raises(paddock.PermissionDenied) as scope:  # a key with the "sessions" scope only
            own.exec(["true"])
    assert scope.value.reason == "PERMISSION_DENIED_SCOPE"

    with paddock.Client(server, api_key=small_key) as small:
        opened = [small.create_session(), small.create_session()]
        try:
            with pytest.raises(paddock.ResourceExhausted) as budget:
                small.create_session()
            assert budget.value.metadata
        finally:
            for s in opened:
                s.close()

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with paddock.Client(f"127.0.0.1:{port}", api_key="k", timeout=2, max_attempts=1) as nowhere:
        with pytest.raises(paddock.Unavailable):
            nowhere.create_session()


def test_deadlines_and_cancellation_end_calls_with_their_own_errors(server, key):
    with paddock.Client(server, api_key=key, timeout=0.5) as client, client.create_session() as session:
        with pytest.raises(paddock.DeadlineExceeded):
            session.exec(["sleep", "5"], timeout=0.5)
        sleeper = session.start(["sleep", "60"])
        with pytest.raises(paddock.DeadlineExceeded):
            for _ in range(64):  # stdin it never reads: a write waits past the deadline
                sleeper.write_stdin(b"x" * (8 << 20))
        stream = session.exec_stream(["sleep", "60"])
        threading.Timer(0.3, stream.close).start()
        with pytest.raises(paddock.Cancelled):
            for _ in stream:
                pass


def test_the_audit_log_shows_what_just_ran(client):
    with client.create_session() as session:
        run = session.exec(["echo", "audited"])
    with client.audit_records() as records:
        mine = [r for r in records if r.target == run.exec_id]
    from paddock.v1 import audit_pb2
    assert audit_pb2.AUDIT_ACTION_EXEC_STARTED in [r.action for r in mine]
    assert audit_pb2.AUDIT_ACTION_EXEC_FINISHED in [r.action for r in mine]
