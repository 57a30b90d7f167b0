"""The time-budget report and the cost model of a local season (issue 14), from what it counted.

`enroll demo --budget` counts every AWS call of the season by the Lambda invocation that made it and
measures each invocation (enrollment/local/calls.py). From those counts this module models what the
same invocations would take in AWS and what the season would cost there:

- **time**: an invocation's modelled AWS duration is Σ its calls × the per-call latency of
  `LATENCY_S` (planning figures, see there) + its own measured CPU time scaled to its function's
  memory. Lambda allots CPU in proportion to memory, one vCPU at 1,769 MB (AWS Lambda Developer
  Guide, "Memory and computing power"), so single-threaded code at M MB runs about 1,769 / M times
  slower than on one full core (never faster than one core: handlers here are single-threaded). One
  core of this machine is taken to be one vCPU. Calls are taken to be sequential, as the handlers
  make them. The worst invocation of each function is set against its configured timeout (the CDK
  stack's, read from `enrollment.core.resources.FUNCTIONS`, which infra/functions.py builds each
  Lambda from; an API function also against API Gateway's 29 s integration timeout).
- **memory**: measured for each workflow task and schedule target (calls.py: the growth of the
  process's peak RSS over the invocation's lifetime, freed heap handed back first), plus `RUNTIME_MB`
  for Lambda's Python runtime and the handler's imports; the largest against the function's
  configured memory. An invocation that ran beside others counts theirs too (an upper bound): while
  counting, the local runtime runs inline Maps' iterations one at a time (registration shards,
  schools, districts: runtime.py `definition`), so those are measured alone; the Distributed Maps'
  batches run at once in threads, so theirs are upper bounds. API requests are not measured (a
  request's work is bounded by a page or a batch, not by the season): for them the report gives the
  bytes the worst invocation read from AWS, and the whole local process's peak RSS bounds everything.
- **cost**: the counted calls at `PRICES` (us-east-1 list prices), DynamoDB by request units
  (estimated from the sizes of the items each request read or wrote, as on-demand billing counts
  them), Lambda by modelled GB-seconds and requests, API Gateway by requests, Step Functions by the
  state transitions of the execution history.

Calls per applicant count the calls the season's functions make — workflow tasks, schedule targets,
the API handlers (registration goes through the real handler) and the token authorizer — and
exclude the driver's own calls (`calls.OUTSIDE`: the demo's people polling and reading the archive)
and those of the Step Functions engine (`calls.ENGINE`: its Lambda Invoke of each task and its Map
ItemReader), which AWS prices as state transitions and Lambda requests.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from enrollment.core import resources
from enrollment.local import calls

LAMBDA_VCPU_MB = 1769  # memory at which a function has one full vCPU (AWS Lambda Developer Guide)
API_GATEWAY_TIMEOUT_S = 29  # REST API integration timeout (API Gateway quotas, default maximum)
OVER = 0.5  # the target: every invocation within half its timeout and half its memory
# Lambda's Python runtime and a handler's imports: a fresh CPython 3.11 importing a handler module here
# peaked at 70 MiB (functions.place.handler, functions.notify.batch) to 83 MiB (functions.register.handler)
# (2026-12-05); 100 MB leaves room for the runtime's own client.
RUNTIME_MB = 100

# Per-call latencies, seconds: PLANNING FIGURES, conservative (about p99 within a region from a
# Lambda function), not measurements. Sources:
# - DynamoDB: "consistent single-digit millisecond performance at any scale" (Amazon DynamoDB
#   Developer Guide, "What is Amazon DynamoDB?"): 10 ms for one-item operations; a one-page Query
#   (up to 1 MB) 20 ms, a Scan page 50 ms; BatchGetItem (≤ 100 keys) and BatchWriteItem (≤ 25 items)
#   30 ms, as their items are read or written in parallel on the service side; transactions 30 ms.
# - S3: "Best Practices Design Patterns: Optimizing Amazon S3 Performance" (whitepaper, "Timeouts and
#   retries for latency-sensitive applications"): small requests (< 512 KB) see median latencies in
#   the tens of milliseconds: GET (first byte) 50 ms; PUT 100 ms (Object Lock and SSE-KMS add a KMS
#   call on the service side); LIST 50 ms.
# - KMS: cryptographic operations of a symmetric or HMAC key ~10 ms typical: 20 ms; asymmetric Sign
#   (ECC_NIST_P256) 30 ms.
# - Step Functions API (SendTaskSuccess, StartExecution, DescribeExecution), SNS Publish, Lambda
#   Invoke (the call only: the callee is its own invocation), EventBridge Scheduler: 50 ms.
LATENCY_S: dict[tuple[str, str], float] = {
    ("dynamodb", "GetItem"): 0.010,
    ("dynamodb", "PutItem"): 0.010,
    ("dynamodb", "UpdateItem"): 0.010,
    ("dynamodb", "DeleteItem"): 0.010,
    ("dynamodb", "Query"): 0.020,
    ("dynamodb", "Scan"): 0.050,
    ("dynamodb", "BatchGetItem"): 0.030,
    ("dynamodb", "BatchWriteItem"): 0.030,
    ("dynamodb", "TransactWriteItems"): 0.030,
    ("dynamodb", "TransactGetItems"): 0.030,
    ("s3", "GetObject"): 0.050,
    ("s3", "HeadObject"): 0.030,
    ("s3", "PutObject"): 0.100,
    ("s3", "CopyObject"): 0.100,
    ("s3", "ListObjectsV2"): 0.050,
    ("kms", "Sign"): 0.030,
}
SERVICE_LATENCY_S: dict[str, float] = {
    "dynamodb": 0.010,
    "s3": 0.100,
    "kms": 0.020,
    "stepfunctions": 0.050,
    "sns": 0.050,
    "lambda": 0.050,
    "scheduler": 0.050,
}
UNKNOWN_LATENCY_S = 0.100

# List prices, us-east-1 (US East, N. Virginia), as published on each service's pricing page in early
# 2025 (DynamoDB after its November 2024 on-demand reduction); no free tier. Re-check before quoting.
# Not priced: SMS (per message and country: the issue's budget excludes it), KMS keys' monthly fee,
# storage, data transfer, CloudWatch logs, EventBridge Scheduler (a dozen schedules a season).
PRICES_DATE = "early 2025"
PRICES_REGION = "us-east-1"
PRICES: dict[str, tuple[float, str]] = {  # item -> (US$, per what)
    "dynamodb-write": (0.625 / 1e6, "write request unit (on-demand, Standard table class)"),
    "dynamodb-read": (0.125 / 1e6, "read request unit (on-demand, Standard table class)"),
    "s3-put": (0.005 / 1000, "PUT, COPY, POST or LIST request (S3 Standard)"),
    "s3-get": (0.0004 / 1000, "GET, SELECT or other request (S3 Standard)"),
    "kms-symmetric": (0.03 / 10_000, "KMS request (symmetric and HMAC keys)"),
    "kms-asymmetric": (0.10 / 10_000, "KMS asymmetric request (ECC keys)"),
    "lambda-requests": (0.20 / 1e6, "Lambda request"),
    "lambda-gb-s": (0.0000166667, "Lambda GB-second (x86)"),
    "api-requests": (3.50 / 1e6, "API Gateway REST API request (first 333 million a month)"),
    "sfn-transitions": (0.025 / 1000, "Step Functions Standard state transition"),
    "sns-publish": (0.50 / 1e6, "SNS publish request (not SMS delivery)"),
}
S3_PUT_TIER = frozenset({"PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjects"})
S3_FREE = frozenset({"DeleteObject", "DeleteObjects"})
KMS_ASYMMETRIC = frozenset({"Sign", "Verify", "GetPublicKey"})
# the Step Functions history events that are billed transitions: each state entered, and each retry
RETRIED = frozenset({"LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskFailed", "TaskTimedOut"})


def latency(service: str, operation: str) -> float:
    return LATENCY_S.get((service, operation), SERVICE_LATENCY_S.get(service, UNKNOWN_LATENCY_S))


def cpu_factor(memory_mb: int) -> float:
    """How much longer one core's CPU time takes at `memory_mb` (one vCPU at 1,769 MB)."""
    return max(1.0, LAMBDA_VCPU_MB / memory_mb)


# DynamoDB request units ------------------------------------------------------------------------
# One rule for both local engines: moto's requests are priced from their DynamoDB JSON
# (`dynamodb_units`, in runtime._counted_calls), the SQLite engine's from the items it stores
# (`plain_item_bytes`, `write_units`, `read_units`, in enrollment/local/sqlite_dynamo.py).

PAGE_BYTES = 1024 * 1024  # a Query or Scan page reads at most 1 MB of items (before any filter)


def number_bytes(text: str) -> int:
    """A number's size by DynamoDB's rule: 1 byte per two significant digits (leading and trailing
    zeros trimmed), plus 1."""
    digits = text.lstrip("+-").split("E")[0].split("e")[0].replace(".", "").strip("0")
    return (max(1, len(digits)) + 1) // 2 + 1


def value_bytes(value: dict[str, Any]) -> int:
    """A DynamoDB JSON attribute value's size, by DynamoDB's rules (Developer Guide, "Item sizes and
    formats"): strings and binaries their bytes, numbers `number_bytes`, booleans and nulls one byte,
    lists and maps 3 bytes plus one per element plus their elements."""
    (kind, v), *_ = value.items()
    if kind == "S":
        return len(str(v).encode())
    if kind == "N":
        return number_bytes(str(v))
    if kind == "B":
        return len(v) if isinstance(v, bytes | bytearray) else len(str(v)) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(value_bytes({kind[0]: x}) for x in v)
    if kind == "NS":
        return sum(number_bytes(str(x)) for x in v)
    if kind == "L":
        return 3 + sum(1 + value_bytes(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_bytes(x) for k, x in v.items())
    return len(str(v))


def item_bytes(item: dict[str, Any] | None) -> int:
    """A DynamoDB JSON item's size: its attribute names and values."""
    return sum(len(k.encode()) + value_bytes(v) for k, v in (item or {}).items())


def plain_bytes(value: Any) -> int:
    """`value_bytes` of a value as boto3's resource API gives it (str, int or Decimal, bool, None,
    list, dict; sets and binaries as boto3 gives them). Exact types first: the SQLite engine sizes
    every item it writes."""
    t = type(value)
    if t is str:
        return len(value) if value.isascii() else len(value.encode())
    if t is dict:
        size = 3
        for k, v in value.items():
            size += 1 + (len(k) if k.isascii() else len(k.encode())) + plain_bytes(v)
        return size
    if t is int or t is Decimal:
        return number_bytes(str(value))
    if t is list:
        size = 3
        for v in value:
            size += 1 + plain_bytes(v)
        return size
    if value is None or t is bool:
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | Decimal):
        return number_bytes(str(value))
    if isinstance(value, dict):
        return 3 + sum(1 + len(k.encode()) + plain_bytes(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(1 + plain_bytes(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, set | frozenset):
        return sum(plain_bytes(v) for v in value)
    return len(bytes(value.value)) if hasattr(value, "value") else len(str(value))  # boto3's Binary


def plain_item_bytes(item: dict[str, Any] | None) -> int:
    """`item_bytes` of an item as boto3's resource API gives it."""
    return plain_bytes(item) - 3 - len(item) if item else 0


def write_units(*sizes: int) -> float:
    """One item's write: 1 write request unit per KB (rounded up) of the larger of the item before and
    after (DynamoDB Developer Guide, "Read/write capacity mode": PutItem, UpdateItem, DeleteItem, and
    each item of a BatchWriteItem); at least 1, also for a refused conditional write or a deleted item
    that was not there."""
    return float(max(1, math.ceil(max(sizes, default=0) / 1024)))


def read_units(size: int, consistent: bool) -> float:
    """One read of `size` bytes (an item, or a Query or Scan page's items before any filter): 1 read
    request unit per 4 KB (rounded up, at least 1), half for an eventually consistent read."""
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def written_items(
    operation: str, request: dict[str, Any], stored: Callable[[str, dict[str, Any]], dict[str, Any] | None]
) -> list[int]:
    """The sizes of the items a write touches as they are stored now (0: none there), in the request's
    order (a BatchWriteItem's puts and deletes, table by table)."""
    if operation == "BatchWriteItem":
        return [
            item_bytes(
                stored(table, w["PutRequest"]["Item"] if "PutRequest" in w else w["DeleteRequest"]["Key"])
            )
            for table, writes in request.get("RequestItems", {}).items()
            for w in writes
        ]
    where = request.get("Item") if operation == "PutItem" else request.get("Key")
    if operation not in ("PutItem", "UpdateItem", "DeleteItem") or not where:
        return []
    return [item_bytes(stored(str(request["TableName"]), where))]


def dynamodb_units(
    operation: str, request: dict[str, Any], response: dict[str, Any], before: list[int], after: list[int]
) -> tuple[str, float]:
    """("read" | "write" | "none", request units) of one DynamoDB request in DynamoDB JSON, as
    on-demand billing counts them (`write_units`, `read_units`); transactions twice that. `before` and
    `after`: `written_items` before and after the request. A Query or Scan is charged for what it read
    before any filter: its returned items' size scaled by ScannedCount / Count. An UpdateItem's and a
    refused conditional write's size is the stored item's."""
    consistent = bool(request.get("ConsistentRead"))
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return "write", write_units(*before, *after, item_bytes(request.get("Item")))
    if operation == "BatchWriteItem":
        units = 0.0
        i = 0
        for writes in request.get("RequestItems", {}).values():
            for w in writes:
                old = before[i] if i < len(before) else 0
                new = item_bytes(w["PutRequest"]["Item"]) if "PutRequest" in w else 0
                units += write_units(old, new)
                i += 1
        return "write", units
    if operation == "TransactWriteItems":
        units = sum(
            write_units(item_bytes(t["Put"]["Item"])) if "Put" in t else 1.0 for t in request["TransactItems"]
        )
        return "write", 2.0 * units
    if operation == "GetItem":
        return "read", read_units(item_bytes(response.get("Item")), consistent)
    if operation == "BatchGetItem":
        reads = 0.0
        for table, items in response.get("Responses", {}).items():
            strong = bool(request.get("RequestItems", {}).get(table, {}).get("ConsistentRead"))
            reads += sum(read_units(item_bytes(i), strong) for i in items)
        return "read", reads
    if operation == "TransactGetItems":
        return "read", 2.0 * sum(
            read_units(item_bytes(r.get("Item")), True) for r in response.get("Responses", [])
        )
    if operation in ("Query", "Scan"):
        items = response.get("Items", [])
        size = sum(item_bytes(i) for i in items)
        if items and response.get("ScannedCount", 0) > len(items):
            size = size * int(response["ScannedCount"]) // len(items)
        return "read", read_units(size, consistent)
    return "none", 0.0


# The season's figures --------------------------------------------------------------------------


@dataclass
class Worst:
    """A function's invocation with the longest modelled AWS duration."""

    calls: int
    calls_s: float
    cpu_s: float  # measured here, on one core, less moto's work
    cpu_at_memory_s: float
    modelled_s: float
    wall_s: float  # local wall time, moto included: not a model of AWS
    received_mb: float
    top_calls: list[tuple[str, int]]


def invocation_seconds(inv: calls.Invocation, memory_mb: int) -> tuple[float, float, float]:
    """(calls' latency, CPU at memory, modelled duration) of one invocation, in seconds."""
    calls_s = sum(n * latency(s, op) for (s, op), n in inv.calls.items())
    cpu = inv.cpu_s * cpu_factor(memory_mb)
    return calls_s, cpu, calls_s + cpu


def snapshot(
    applicants: int,
    *,
    peak_rss_mib: float | None = None,
    wall_s: float | None = None,
    counted: Counter[tuple[str, str, str]] | None = None,
    capacity: dict[tuple[str, str], float] | None = None,
    invocations: Iterable[calls.Invocation] | None = None,
    history: Counter[str] | None = None,
) -> dict[str, Any]:
    """What a counted season did, as JSON (OUT/budget.json): everything `time_budget`, `cost` and
    `per_applicant` need, and the figures they used. Defaults: what `enrollment.local.calls` holds."""
    counted = calls.CALLS if counted is None else counted
    capacity = calls.CAPACITY if capacity is None else capacity
    history = calls.HISTORY if history is None else history
    functions: dict[str, dict[str, Any]] = {}
    worst: dict[str, tuple[float, Worst]] = {}
    for inv in calls.INVOCATIONS if invocations is None else invocations:
        spec = resources.FUNCTION_INDEX.get(inv.function)
        memory = spec.memory_mb if spec else 128
        calls_s, cpu, modelled = invocation_seconds(inv, memory)
        f = functions.setdefault(
            inv.function,
            {
                "invocations": 0,
                "api_requests": 0,
                "failed": 0,
                "modelled_s": 0.0,
                "gb_s": 0.0,
                "cpu_s": 0.0,
                "memory_mb": memory,
                "timeout_s": spec.timeout_s if spec else None,
                "triggers": Counter[str](),
                "memory_measured": 0,
                "memory_peak_mb": None,  # the largest of the invocations that ran alone
                "memory_bound_mb": None,  # the largest upper bound of those that ran beside others
            },
        )
        if inv.memory_mb is not None:
            f["memory_measured"] += 1
            which = "memory_bound_mb" if inv.overlapped else "memory_peak_mb"
            f[which] = max(f[which] or 0.0, inv.memory_mb)
        f["invocations"] += 1
        f["api_requests"] += inv.trigger == "api"
        f["failed"] += not inv.ok
        f["modelled_s"] += modelled
        f["cpu_s"] += inv.cpu_s
        f["gb_s"] += math.ceil(modelled * 1000) / 1000 * memory / 1024  # billed per ms
        f["triggers"][inv.trigger] += 1
        if inv.function not in worst or modelled > worst[inv.function][0]:
            top = [(f"{s}.{op}", n) for (s, op), n in inv.calls.most_common(4)]
            worst[inv.function] = (
                modelled,
                Worst(
                    sum(inv.calls.values()),
                    calls_s,
                    inv.cpu_s,
                    cpu,
                    modelled,
                    inv.wall_s,
                    inv.received_bytes / 1e6,
                    top,
                ),
            )
    for key, (_, w) in worst.items():
        functions[key]["worst"] = asdict(w)
        functions[key]["triggers"] = dict(functions[key]["triggers"])
    by_function: dict[str, dict[str, float]] = defaultdict(dict)
    for (fn, kind), units in capacity.items():
        by_function[fn][kind] = units
    return {
        "applicants": applicants,
        "wall_s": wall_s,
        "peak_rss_mib": peak_rss_mib,
        "calls": [
            {"function": fn, "service": s, "operation": op, "calls": n}
            for (fn, s, op), n in sorted(counted.items())
        ],
        "capacity": dict(by_function),
        "functions": functions,
        "history": dict(history),
        "transitions": transitions(history, counted),
        "assumptions": {
            "latency_s": {f"{s}.{op}": v for (s, op), v in LATENCY_S.items()},
            "service_latency_s": SERVICE_LATENCY_S,
            "lambda_vcpu_mb": LAMBDA_VCPU_MB,
            "prices": {k: {"usd": v, "per": per} for k, (v, per) in PRICES.items()},
            "prices_region": PRICES_REGION,
            "prices_date": PRICES_DATE,
        },
    }


def transitions(
    history: Counter[str] | dict[str, int], counted: Counter[tuple[str, str, str]] | None = None
) -> int:
    """Step Functions Standard's billed state transitions: each state entered (inline Map iterations'
    states included) and each retried attempt, from the execution history; and one for each task of a
    Distributed Map's child executions, which moto keeps out of the parent's history: the engine's
    Lambda Invokes beyond the history's scheduled tasks."""
    entered = sum(n for t, n in history.items() if t.endswith("StateEntered") or t in RETRIED)
    invoked = (counted or Counter()).get((calls.ENGINE, "lambda", "Invoke"), 0)
    return entered + max(0, invoked - history.get("TaskScheduled", 0))


def function_calls(snap: dict[str, Any]) -> list[dict[str, Any]]:
    """The counted calls the season's functions made: not the driver's, not the engine's."""
    return [c for c in snap["calls"] if c["function"] not in (calls.OUTSIDE, calls.ENGINE)]


def per_applicant(snap: dict[str, Any]) -> dict[str, Any]:
    """Calls per applicant: every call the functions made, in all and by operation."""
    applicants = max(1, int(snap["applicants"]))
    mine = function_calls(snap)
    ops: Counter[str] = Counter()
    for c in mine:
        ops[f"{c['service']}.{c['operation']}"] += c["calls"]
    return {
        "calls": sum(ops.values()),
        "per_applicant": round(sum(ops.values()) / applicants, 2),
        "by_operation": {op: round(n / applicants, 2) for op, n in ops.most_common()},
        "engine_calls": sum(c["calls"] for c in snap["calls"] if c["function"] == calls.ENGINE),
        "driver_calls": sum(c["calls"] for c in snap["calls"] if c["function"] == calls.OUTSIDE),
    }


@dataclass
class BudgetRow:
    function: str
    timeout_s: int
    limit_s: int  # the timeout, or API Gateway's 29 s for an API handler
    memory_mb: int
    invocations: int
    calls: int
    calls_s: float
    cpu_s: float
    cpu_at_memory_s: float
    modelled_s: float
    share: float  # modelled_s / limit_s
    received_mb: float
    wall_s: float
    top_calls: list[tuple[str, int]]
    used_mb: float | None  # largest measured invocation's peak RSS growth + RUNTIME_MB, if measured
    upper_bound: bool = False  # every measured invocation ran beside others: used_mb counts theirs too

    @property
    def memory_share(self) -> float | None:
        return None if self.used_mb is None else self.used_mb / self.memory_mb

    @property
    def over(self) -> bool:
        """Over half its limit, or over half its memory as measured alone (an upper bound over half
        is shown, not counted: it holds other invocations' memory too)."""
        return self.share > OVER or (not self.upper_bound and (self.memory_share or 0.0) > OVER)


def _memory_used(f: dict[str, Any]) -> tuple[float | None, bool]:
    """A function's memory used (+ RUNTIME_MB): the largest invocation that ran alone, else the
    largest upper bound (invocations that ran beside others), flagged as such, else None."""
    for key, bound in (("memory_peak_mb", False), ("memory_bound_mb", True)):
        if f.get(key) is not None:
            return float(f[key]) + RUNTIME_MB, bound
    return None, False


def time_budget(snap: dict[str, Any]) -> list[BudgetRow]:
    """One row per function that ran: its worst invocation against its limit, worst first."""
    rows = []
    for key, f in snap["functions"].items():
        w = f["worst"]
        timeout = int(f["timeout_s"] or 0)
        limit = min(timeout, API_GATEWAY_TIMEOUT_S) if f["api_requests"] else timeout
        rows.append(
            BudgetRow(
                key,
                timeout,
                limit,
                int(f["memory_mb"]),
                int(f["invocations"]),
                int(w["calls"]),
                float(w["calls_s"]),
                float(w["cpu_s"]),
                float(w["cpu_at_memory_s"]),
                float(w["modelled_s"]),
                float(w["modelled_s"]) / limit if limit else math.inf,
                float(w["received_mb"]),
                float(w["wall_s"]),
                [(str(op), int(n)) for op, n in w["top_calls"]],
                *_memory_used(f),
            )
        )
    return sorted(rows, key=lambda r: max(r.share, r.memory_share or 0.0), reverse=True)


@dataclass
class CostLine:
    item: str
    quantity: float
    unit: str
    usd_each: float

    @property
    def usd(self) -> float:
        return self.quantity * self.usd_each


def cost(snap: dict[str, Any]) -> list[CostLine]:
    """The season's AWS bill at `PRICES`: the lines' sum is the total."""
    q: Counter[str] = Counter()
    for c in snap["calls"]:
        s, op, n = c["service"], c["operation"], c["calls"]
        if c["function"] == calls.OUTSIDE:
            continue  # the driver's calls stand for people and reports, not the system
        if s == "s3" and op not in S3_FREE:
            q["s3-put" if op in S3_PUT_TIER else "s3-get"] += n  # the engine's ItemReader GET too
        elif s == "kms":
            q["kms-asymmetric" if op in KMS_ASYMMETRIC else "kms-symmetric"] += n
        elif s == "sns" and op == "Publish":
            q["sns-publish"] += n
    for fn, units in snap["capacity"].items():
        if fn == calls.OUTSIDE:
            continue
        q["dynamodb-write"] += units.get("write", 0)
        q["dynamodb-read"] += units.get("read", 0)
    for f in snap["functions"].values():
        q["lambda-requests"] += f["invocations"]
        q["lambda-gb-s"] += f["gb_s"]
        q["api-requests"] += f["api_requests"]
    q["sfn-transitions"] += snap["transitions"]
    return [CostLine(item, q[item], per, price) for item, (price, per) in PRICES.items() if q[item] > 0]


def summary(snap: dict[str, Any]) -> dict[str, Any]:
    lines = cost(snap)
    total = sum(line.usd for line in lines)
    applicants = max(1, int(snap["applicants"]))
    return {
        "applicants": snap["applicants"],
        "calls_per_applicant": per_applicant(snap)["per_applicant"],
        "usd_total": total,
        "usd_per_1000_applicants": total / applicants * 1000,
        "transitions": snap["transitions"],
        "over_half_timeout": [r.function for r in time_budget(snap) if r.over],  # or over half its memory
    }


def report(snap: dict[str, Any]) -> dict[str, Any]:
    """budget.json: the counts, the time budget, calls per applicant and the cost, with assumptions."""
    return {
        **snap,
        "time_budget": [
            asdict(r) | {"over": r.over, "memory_share": r.memory_share} for r in time_budget(snap)
        ],
        "per_applicant": per_applicant(snap),
        "cost": [asdict(line) | {"usd": line.usd} for line in cost(snap)],
        "summary": summary(snap),
    }


def markdown(snap: dict[str, Any]) -> str:
    """The time-budget table, calls per applicant and the cost lines, in Markdown."""
    out = [
        f"### Time budget per Lambda ({snap['applicants']} applicants)",
        "",
        "Worst invocation of each function: Σ calls × planning latency + its own CPU × max(1, 1769 MB / memory),"
        " against its timeout (API handlers: API Gateway's 29 s). Memory: the largest peak RSS growth of an"
        f" invocation + {RUNTIME_MB} MB for the runtime and imports, against its memory (≤: an upper bound, where"
        " every invocation ran beside others; — for API handlers). ⚠: over 50 % of either.",
        "",
        "| function | timeout (s) | memory (MB) | invocations | worst: calls | calls (s) | CPU here (s) |"
        " CPU at memory (s) | modelled (s) | % of limit | read (MB) | memory used (MB) | % of memory |"
        " most calls |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in time_budget(snap):
        top = ", ".join(f"{op} {n}" for op, n in r.top_calls)
        time_flag = " ⚠" if r.share > OVER else ""
        share, bound = r.memory_share, "≤ " if r.upper_bound else ""
        used = "—" if r.used_mb is None else f"{bound}{r.used_mb:.0f}"
        memory = "—" if share is None else f"{bound}{share:.1%}{' ⚠' if share > OVER else ''}"
        out.append(
            f"| {r.function} | {r.timeout_s}{f' (API {r.limit_s})' if r.limit_s != r.timeout_s else ''} | {r.memory_mb} |"
            f" {r.invocations} | {r.calls} | {r.calls_s:.2f} | {r.cpu_s:.3f} | {r.cpu_at_memory_s:.3f} |"
            f" {r.modelled_s:.2f} | {r.share:.1%}{time_flag} | {r.received_mb:.2f} | {used} | {memory} | {top} |"
        )
    rss = snap.get("peak_rss_mib")
    out += [
        "",
        "`read (MB)` is what the worst invocation read from AWS."
        + (
            f" The whole local process (moto, every function, the driver) peaked at {rss:.0f} MiB RSS."
            if rss
            else ""
        ),
        "",
    ]
    pa = per_applicant(snap)
    out += [
        f"### Calls per applicant: {pa['per_applicant']} ({pa['calls']} calls by the functions;"
        f" not counted: {pa['driver_calls']} by the driver, {pa['engine_calls']} by the Step Functions engine)",
        "",
        "| operation | per applicant |",
        "| --- | ---: |",
        *(f"| {op} | {n} |" for op, n in pa["by_operation"].items()),
        "",
    ]
    lines = cost(snap)
    total = sum(line.usd for line in lines)
    applicants = max(1, int(snap["applicants"]))
    out += [
        f"### Cost at list prices ({PRICES_REGION}, {PRICES_DATE}; SMS excluded)",
        "",
        "| item | quantity | unit | US$ | share |",
        "| --- | ---: | --- | ---: | ---: |",
        *(
            f"| {line.item} | {line.quantity:,.1f} | {line.unit} | {line.usd:.6f} |"
            f" {line.usd / total if total else 0:.1%} |"
            for line in lines
        ),
        f"| **total** | | | **{total:.6f}** | |",
        "",
        f"**US$ {total / applicants * 1000:.4f} per 1,000 applicants**; {snap['transitions']} state transitions.",
        "",
    ]
    return "\n".join(out)
