"""ClientsBench's Python side: one create + exec + close with the Python client per line on stdin,
its time in nanoseconds on stdout ($PADDOCK_SERVER, $PADDOCK_API_KEY)."""
import sys
import time

import paddock

with paddock.Client() as client:
    for _ in sys.stdin:
        start = time.perf_counter_ns()
        with client.create_session() as session:
            if not session.exec(["true"]).ok:
                raise SystemExit("true failed")
        print(time.perf_counter_ns() - start, flush=True)
