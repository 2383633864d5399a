"""Runs inside a Paddock jail: sums a CSV's amount column, reporting progress through the in-sandbox
SDK as it goes, and writes the totals to out/report.json."""
import csv
import json

import paddock_agent as agent

with open("data/sales.csv", newline="") as f:
    rows = list(csv.DictReader(f))
totals = {}
for i, row in enumerate(rows, 1):
    totals[row["region"]] = totals.get(row["region"], 0) + int(row["amount"])
    agent.progress(f"row {i} of {len(rows)}", i / len(rows))
report = {"rows": len(rows), "total": sum(totals.values()), "by_region": totals}
agent.write_file("out/report.json", json.dumps(report, sort_keys=True), make_parents=True)
print(f"summed {len(rows)} rows")
