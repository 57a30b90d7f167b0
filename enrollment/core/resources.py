"""Names shared by the CDK stack and the embedded runtime, so both build the same season.

CDK (`infra/`) and the local runtime (`enrollment/local/`) read every resource name, Lambda
handler and ASL substitution from here; nothing else spells them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE_FILE = ROOT / "statemachines" / "season.asl.json"
LAMBDA_RUNTIME = "python3.12"
SERVICE = "enrollment"
# Every custom metric's dimension naming the season config (several seasons may share an account):
# set by enrollment/adapters/observability.py, watched by infra/observability.py's alarms.
SEASON_DIMENSION = "season"
# the season table's TTL attribute: items carrying it (parents' codes and sessions) expire
TTL_ATTRIBUTE = "expires_epoch"
# what API Gateway accepts in a staff request's Authorization header before calling the authorizer
AUTHORIZATION_PATTERN = r"^Bearer [-0-9A-Za-z._~+/]+=*$"


@dataclass(frozen=True)
class FunctionSpec:
    key: str  # short name; the ASL substitution is f"{key.title()}FunctionArn"
    handler: str  # module path.function, as Lambda's `handler` setting
    description: str
    memory_mb: int = 512
    timeout_s: int = 30

    @property
    def asl_placeholder(self) -> str:
        return "".join(part.title() for part in self.key.split("-")) + "FunctionArn"


# One entry per Lambda of the phases built so far.
FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("register", "functions.register.handler.handler", "Parents' registration API and web form"),
    FunctionSpec(
        "authorize", "functions.authorize.handler.handler", "Verifies staff OIDC tokens (API authorizer)"
    ),
    FunctionSpec(
        "console", "functions.console.handler.handler", "The staff console's pages; who is signed in"
    ),
    FunctionSpec(
        "complaints-api", "functions.complaints.api.handler", "Complaints and appeals for districts to answer"
    ),
    FunctionSpec(
        "exports-api",
        "functions.exports.api.handler",
        "The season's lists as files",
        memory_mb=1769,  # one vCPU: a district of 15,000 children renders in ~3 s of CPU (docs/EXPORTS.md)
        timeout_s=29,  # API Gateway answers 504 after 29 s
    ),
    FunctionSpec("gate-open", "functions.gates.handler.open_gate", "Stores a phase gate's task token"),
    FunctionSpec(
        "gate-advance", "functions.gates.handler.advance", "Resumes a phase gate (schedule or staff)"
    ),
    FunctionSpec("close-registration", "functions.register.close.handler", "Records demand per school"),
    FunctionSpec(
        "verify-prepare",
        "functions.verify.prepare.handler",
        "Writes the verification batches; finds the checks to ask again",
        timeout_s=300,  # the re-ask's look reads the season's open cases, as verify-close does
    ),
    FunctionSpec(
        "verify-batch", "functions.verify.batch.handler", "Asks the agencies about a batch", timeout_s=300
    ),
    FunctionSpec(
        "verify-close", "functions.verify.close.handler", "Closes home visits; verdicts", timeout_s=300
    ),
    FunctionSpec(
        "spotcheck-draw", "functions.verify.spotcheck.handler", "Draws the city's spot-check sample"
    ),
    FunctionSpec("verify-api", "functions.verify.api.handler", "Review, sign-off, home visits, spot-checks"),
    FunctionSpec(
        "lottery-prepare", "functions.lottery.prepare.handler", "Freezes private-school pools", timeout_s=120
    ),
    FunctionSpec("lottery-wait", "functions.lottery.wait.handler", "Waits for a lottery ceremony"),
    FunctionSpec(
        "lottery-record", "functions.lottery.record.handler", "Archives a private admission", timeout_s=300
    ),
    FunctionSpec("lottery-api", "functions.lottery.api.handler", "The lottery ceremony API"),
    # memory: measured in the 300,000-applicant rehearsal (`enroll demo --budget`, benchmarks/README.md)
    # the run's peak RSS grew by 642 MB while placing, 742 MB with the runtime and imports: 36 % of
    # 2,048 MB, which also gives it a whole vCPU (1,769 MB). The places are stored by the
    # StorePlacements Map (place-store), not here.
    FunctionSpec(
        "place",
        "functions.place.handler.handler",
        "Places every child and checks itself",
        memory_mb=2048,
        timeout_s=900,
    ),
    # one StorePlacements item: a chunk of 2,000 places, 80 BatchWriteItem calls (a few seconds)
    FunctionSpec("place-store", "functions.place.store.handler", "Stores a chunk of the children's places"),
    FunctionSpec("place-api", "functions.place.api.handler", "Committee decisions, deferrals, overrides"),
    FunctionSpec(
        "seal", "functions.archive.seal.handler", "Seals the season's signed archive", timeout_s=300
    ),
    # the season report beside the sealed archive: at 60,000 applicants placements.jsonl is 7 MB and
    # ~31,000 coordinated registrations are read (315 BatchGetItem): ~15 s modelled (report/season.py)
    FunctionSpec(
        "report",
        "functions.archive.report.handler",
        "Writes the season report beside the archive",
        memory_mb=1024,
        timeout_s=300,
    ),
    FunctionSpec("notify-prepare", "functions.notify.prepare.handler", "Batches the admission notices"),
    FunctionSpec(
        "classes",
        "functions.place.classes.handler",
        "Lists the school-grades to draw classes for",
        timeout_s=120,
    ),
    FunctionSpec(
        "classes-school",
        "functions.place.classes.school",
        "Draws one school-grade's sunshine classes",
        timeout_s=120,
    ),
    FunctionSpec("classes-seal", "functions.place.classes.seal", "Seals the sunshine classes", timeout_s=300),
    FunctionSpec(
        "notify-batch",
        "functions.notify.batch.handler",
        "Issues a batch of notices (PDF, SMS)",
        timeout_s=300,
    ),
    FunctionSpec(
        "dead-letter", "functions.deadletters.record.handler", "Records a workflow item that failed for good"
    ),
    # at deploy time (a CloudFormation custom resource, infra/schedules.py): the deadline schedules
    # at the stored deadlines, extensions included (enrollment/core/deadlines.py)
    FunctionSpec(
        "deadlines",
        "functions.deadlines.handler.handler",
        "Puts the deadline schedules at the stored deadlines (deploys)",
        timeout_s=120,
    ),
    # every 15 minutes: a season not started by its notice date, gates overdue (docs/RUNBOOK.md)
    FunctionSpec("watch", "functions.watch.handler.handler", "Watches the season's start and deadlines"),
    # daily from the retention date: the season's personal data erased (docs/RETENTION.md)
    FunctionSpec(
        "erase", "functions.erase.handler.handler", "Erases the season's personal data", timeout_s=900
    ),
)
FUNCTION_INDEX = {f.key: f for f in FUNCTIONS}


def stack_name(config_name: str) -> str:
    return f"Enrollment-{config_name}"


def function_name(config_name: str, key: str) -> str:
    return f"enrollment-{config_name}-{key}"


def table_name(config_name: str) -> str:
    return f"enrollment-{config_name}"


def idempotency_table_name(config_name: str) -> str:
    return f"enrollment-{config_name}-idempotency"


def state_machine_name(config_name: str) -> str:
    return f"enrollment-{config_name}-season"


def schedule_group_name(config_name: str) -> str:
    return f"enrollment-{config_name}"


# The corrections' daily seal (issue 18): an EventBridge Scheduler schedule of the season's group,
# every day at this time of the season's timezone, invoking the seal function's `seal-corrections`
# task (infra/schedules.py; fired on the simulated clock by enrollment/local/runtime.py)
SEAL_CORRECTIONS_SCHEDULE = "seal-corrections"
SEAL_CORRECTIONS_AT = {"hour": "3", "minute": "0"}


def seal_corrections_event(season: str) -> dict[str, str]:
    """What the daily schedule (and the place API, on demand) sends the seal function."""
    return {"season": season, "task": "seal-corrections"}


def work_bucket_name(config_name: str, account: str, region: str) -> str:
    return f"enrollment-{config_name}-work-{account}-{region}"


def archive_bucket_name(config_name: str, account: str, region: str) -> str:
    return f"enrollment-{config_name}-archive-{account}-{region}"


# Substitution names used in statemachines/season.asl.json besides the function ARNs.
ASL_TABLE_NAME = "TableName"
ASL_SEASON = "Season"
ASL_PARTITION = "Partition"
