"""A planner's view of Paddock, in Python: upload a CSV, run a script over it in a sandbox (it reports
progress through the in-sandbox SDK), download the result, and read the audit records of what ran.

    PADDOCK_SERVER=127.0.0.1:50051 PADDOCK_API_KEY=pdk_... python examples/python/csv_report.py
"""
import json
from pathlib import Path

import paddock
from paddock.v1 import audit_pb2

EXAMPLES = Path(__file__).resolve().parent.parent


def main() -> None:
    with paddock.Client() as client:  # $PADDOCK_SERVER and $PADDOCK_API_KEY
        with client.create_session(labels={"example": "csv-report"}) as session:
            session.files.upload(EXAMPLES / "data" / "sales.csv", "data/sales.csv")
            session.files.upload(EXAMPLES / "tool" / "report.py", "report.py")
            run = session.exec(["python3", "report.py"], ipc=True,
                               on_progress=lambda p: print(f"progress {p.fraction:.0%}: {p.message}"))
            if not run.ok:
                raise SystemExit(f"the script failed ({run.status}): {run.stderr.decode()}")
            print(run.text.strip())
            report = json.loads(session.files.read("out/report.json"))
            print(f"total {report['total']} over {report['rows']} rows")
        with client.audit_records() as records:
            for record in records:
                if record.target == run.exec_id:
                    print(f"audit #{record.sequence}: {audit_pb2.AuditAction.Name(record.action)} {record.outcome}")


if __name__ == "__main__":
    main()
