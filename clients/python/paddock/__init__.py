"""Python client of a Paddock host.

    import paddock

    with paddock.Client("127.0.0.1:50051", api_key=key) as client:
        with client.create_session() as session:
            session.files.write("data.csv", b"a,b\\n1,2\\n")
            run = session.exec(["python3", "-c", "print(6 * 7)"])
            print(run.text)          # 42

Every failed call raises a :class:`paddock.errors.PaddockError` subclass (``paddock.NotFound``...)
with the host's reason and request id. :mod:`paddock.aio` has the same shape for asyncio. The
generated messages and stubs are in :mod:`paddock.v1`; the protos ship in ``paddock/proto``.
"""
from paddock._common import ExecOutcome
from paddock.client import Browser, Client, EventStream, Files, RunningExec, Session
from paddock.errors import (AlreadyExists, Cancelled, DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound,
                            PaddockError, PermissionDenied, ResourceExhausted, Unauthenticated, Unavailable,
                            Unimplemented)

__version__ = "0.1.0"
__all__ = ["Client", "Session", "RunningExec", "Files", "Browser", "EventStream", "ExecOutcome", "PaddockError",
           "InvalidArgument", "NotFound", "AlreadyExists", "PermissionDenied", "Unauthenticated", "ResourceExhausted",
           "FailedPrecondition", "Unavailable", "DeadlineExceeded", "Cancelled", "Unimplemented"]
