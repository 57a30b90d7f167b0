"""The cost model: a counted season's AWS bill at list prices (issue 14).

    .venv/bin/python benchmarks/cost_model.py DIR/budget.json [--per 1000]

Reads what `enroll demo --budget` (or benchmarks/time_budget.py) counted and prices it with
`enrollment.local.budget.cost`: DynamoDB on-demand read and write request units (estimated from the
sizes of the items each request read or wrote), S3 requests by tier, KMS requests, Lambda requests
and GB-seconds (each invocation's modelled AWS duration × its configured memory), API Gateway REST
requests, and Step Functions Standard state transitions from the execution history. Prices: us-east-1
list prices (`budget.PRICES`, dated there); SMS excluded. Prints each line, the total and US$ per
`--per` applicants.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from enrollment.local import budget


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("budget_json", type=Path)
    parser.add_argument("--per", type=int, default=1000, help="applicants per figure (default 1,000)")
    args = parser.parse_args()
    snap = json.loads(args.budget_json.read_text(encoding="utf-8"))
    lines = budget.cost(snap)
    total = sum(line.usd for line in lines)
    applicants = max(1, int(snap["applicants"]))
    print(
        f"{snap['applicants']} applicants; prices {budget.PRICES_REGION}, {budget.PRICES_DATE}; SMS excluded"
    )
    print("| item | quantity | unit price (US$) | unit | US$ | share |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for line in lines:
        share = line.usd / total if total else 0.0
        print(
            f"| {line.item} | {line.quantity:,.1f} | {line.usd_each:.10f} | {line.unit} | {line.usd:.6f} | {share:.1%} |"
        )
    print(f"| **total** | | | | **{total:.6f}** | |")
    print(f"US$ {total / applicants * args.per:.4f} per {args.per:,} applicants")


if __name__ == "__main__":
    main()
