"""The real adapters, built once per Lambda cold start from the environment (Settings)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from enrollment.adapters.agency_files_store import DynamoFileRequestStore
from enrollment.adapters.agency_http import HttpAgency, key_from_secret
from enrollment.adapters.archive import ArchiveBucket, read_s3
from enrollment.adapters.complaint_store import DynamoComplaintStore
from enrollment.adapters.correction_reads import DynamoCorrectionReads
from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.kms import KmsChildKeyer
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.adapters.notifications import DynamoNoticeStore, OutboxSms, SnsSms, notice_secret
from enrollment.adapters.oidc import IssuerKeys
from enrollment.adapters.parent_store import DynamoParentStore, parent_secret
from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.adapters.s3 import WorkBucket
from enrollment.adapters.scheduler import SchedulerSchedules
from enrollment.adapters.season_counts import DynamoSeasonCounts
from enrollment.adapters.seeds import current as current_seeds
from enrollment.adapters.settings import Settings, settings
from enrollment.adapters.sfn import SfnTaskTokens, SfnWorkflow
from enrollment.adapters.signing import KmsSigner
from enrollment.adapters.sms_cap_store import DynamoSmsCapStore
from enrollment.adapters.sms_message_store import DynamoSmsMessageStore
from enrollment.adapters.table import dynamodb_client
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core import clock
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Seeds
from enrollment.core.resources import ROOT
from enrollment.core.sms_delivery import TrackedSms, Tracking
from enrollment.core.staff import StaffDirectory
from enrollment.people.access import Verifier
from enrollment.people.parents import CodeCaps
from enrollment.verification.agency_files import FileRequests
from enrollment.verification.checks import (
    Agencies,
    AgenciesNotConfigured,
    LocalRegistries,
    VisitsByCallback,
)
from enrollment.verification.registries import Registries

if TYPE_CHECKING:
    from enrollment.adapters.correction_store import DynamoCorrectionStore
    from enrollment.adapters.late_checks import LambdaLateChecks
    from enrollment.adapters.sealer import LambdaSealer

REGISTRATION_STATE_MAX_AGE_S = 5.0

# `sms_provider.provider: outbox` in a deployed stack (a rehearsal): the messages stay in the function's /tmp
OUTBOX_FALLBACK = "/tmp/sms-outbox.jsonl"  # noqa: S108


@dataclass
class Wiring:
    settings: Settings

    @cached_property
    def config(self) -> SeasonConfig:
        return self.settings.season()

    @cached_property
    def store(self) -> DynamoStore:
        return DynamoStore(self.settings.table_name)

    @cached_property
    def registration_store(self) -> DynamoStore:
        """The store as the registration form reads it: the season's state at most
        `REGISTRATION_STATE_MAX_AGE_S` old (DynamoStore.season_state says why)."""
        return DynamoStore(self.settings.table_name, state_max_age_s=REGISTRATION_STATE_MAX_AGE_S)

    @cached_property
    def keyer(self) -> KmsChildKeyer:
        return KmsChildKeyer(self.settings.child_key_id)

    @cached_property
    def schedules(self) -> SchedulerSchedules:
        return SchedulerSchedules(self.settings.schedule_group)

    @cached_property
    def verification(self) -> DynamoVerificationStore:
        return DynamoVerificationStore(self.settings.table_name)

    @cached_property
    def lotteries(self) -> DynamoLotteryStore:
        return DynamoLotteryStore(self.settings.table_name)

    @cached_property
    def placements(self) -> DynamoPlacementStore:
        return DynamoPlacementStore(self.settings.table_name)

    @cached_property
    def corrections(self) -> DynamoCorrectionStore:
        # imported here: the use case reads placement's modules, which only the place API needs
        from enrollment.adapters.correction_store import DynamoCorrectionStore

        return DynamoCorrectionStore(self.settings.table_name)

    @cached_property
    def late_checks(self) -> LambdaLateChecks:
        """A late registration's agency checks, asked by the verify-batch function (issue 18)."""
        from enrollment.adapters.late_checks import LambdaLateChecks

        if not self.settings.verify_batch_function:
            raise RuntimeError(
                "VERIFY_BATCH_FUNCTION is not set: a late registration's checks cannot be asked"
            )
        return LambdaLateChecks(self.settings.verify_batch_function)

    @cached_property
    def correction_reads(self) -> DynamoCorrectionReads:
        """The corrections read without placement's modules (status page, complaints, notices)."""
        return DynamoCorrectionReads(self.settings.table_name)

    @cached_property
    def notices(self) -> DynamoNoticeStore:
        return DynamoNoticeStore(self.settings.table_name)

    @cached_property
    def sms(self) -> TrackedSms:
        """The season's SMS provider (`config.sms_provider`); the embedded backend's outbox file, if set,
        whatever the config says (no SMS leaves a laptop)."""
        chosen = self.config.sms_provider
        if self.settings.sms_outbox or chosen.provider == "outbox":
            return OutboxSms(self.settings.sms_outbox or OUTBOX_FALLBACK)
        # imported here: Alibaba Cloud's SDK is only in the layer of a season that sends by it
        if chosen.provider == "aliyun":
            from enrollment.adapters.sms_aliyun import AliyunSms

            return AliyunSms(chosen)
        if chosen.provider == "tencent":
            from enrollment.adapters.sms_tencent import TencentSms

            return TencentSms(chosen)
        return SnsSms()

    @cached_property
    def sms_messages(self) -> DynamoSmsMessageStore:
        """The season's SMS message records and their receipts (enrollment/core/sms_delivery.py)."""
        return DynamoSmsMessageStore(self.settings.table_name, int(self.config.erase_from.timestamp()))

    @cached_property
    def sms_tracking(self) -> Tracking:
        return Tracking(self.sms_messages, self.sms.tracks_receipts, self.config.sms_delivery)

    @cached_property
    def notice_secret(self) -> bytes:
        return notice_secret(self.keyer.client, self.settings.child_key_id, self.config.season)

    @cached_property
    def parents(self) -> DynamoParentStore:
        return DynamoParentStore(self.settings.table_name)

    @cached_property
    def parent_secret(self) -> bytes:
        return parent_secret(self.keyer.client, self.settings.child_key_id, self.config.season)

    @cached_property
    def sms_caps(self) -> DynamoSmsCapStore:
        """The counts behind the season's SMS caps (`config.sms`): per phone, and every SMS per minute."""
        return DynamoSmsCapStore(self.settings.table_name)

    @cached_property
    def code_caps(self) -> CodeCaps:
        return CodeCaps(self.config.sms, self.sms_caps)

    @cached_property
    def complaints(self) -> DynamoComplaintStore:
        return DynamoComplaintStore(self.settings.table_name)

    @cached_property
    def archive(self) -> ArchiveBucket:
        return ArchiveBucket(self.settings.archive_bucket)

    def archived(self, prefix: str) -> dict[str, bytes]:
        """Every object of the archive bucket under `prefix`, by its key below it (ArchiveUnreadable if none)."""
        return read_s3(f"s3://{self.archive.bucket}/{prefix}", self.archive.client)

    @cached_property
    def signer(self) -> KmsSigner:
        """The season's KMS signing key: it signs the archive and its additions."""
        return KmsSigner(self.settings.signing_key_id)

    @cached_property
    def sealer(self) -> LambdaSealer:
        """The seal function, asked to seal the pending corrections now (city staff, on demand)."""
        from enrollment.adapters.sealer import LambdaSealer  # the place API's alone, as corrections'

        return LambdaSealer(self.settings.seal_function)

    @cached_property
    def seeds(self) -> Seeds:
        """Seeds for the draws nobody announced one for: fresh in AWS, the local season's when installed."""
        return current_seeds()

    @cached_property
    def staff(self) -> StaffDirectory:
        """The agencies' IAM identities (and, locally, the seeded staff); empty where the function has
        no STAFF_DIRECTORY: staff come from their tokens, so only the agency route needs it."""
        if not self.settings.staff_directory:
            return StaffDirectory([])
        path = Path(self.settings.staff_directory)
        return StaffDirectory.load(path if path.is_absolute() else ROOT / path)

    @cached_property
    def staff_verifier(self) -> Verifier:
        s = self.settings
        return Verifier(
            issuer=s.oidc_issuer,
            audience=s.oidc_audience or s.oidc_client_id,
            groups_claim=s.oidc_groups_claim,
            districts=frozenset(d.code for d in self.config.districts),
            key_for=IssuerKeys(s.oidc_issuer, s.oidc_jwks_file),
        )

    @cached_property
    def local_agencies(self) -> LocalRegistries:
        if self.settings.agency_registries:
            return LocalRegistries(Registries.load(self.settings.agency_registries))
        raise AgenciesNotConfigured(
            "no agency registries (AGENCY_REGISTRIES) for the agencies not named in verification.agencies"
        )

    @cached_property
    def agencies(self) -> Agencies:
        """Each agency named in `verification.agencies` over its API (key from Secrets Manager); the
        others from the local registries, which must then be given (AGENCY_REGISTRIES). Home visits
        have no API: locally the registries drive them; deployed, the stored pending check is the
        request and the community office answers through its callback route. An agency's circuit
        cools down on the season's clock (`clock.now`: real time in AWS, simulated locally, where
        the workflow waits out an outage in simulated hours)."""
        named = self.config.verification
        api: dict[str, Any] = {
            a: HttpAgency(a, e, key_from_secret(e.credentials_secret_arn), clock=_season_seconds)
            for a, e in named.agency_apis().items()
        }
        api |= dict.fromkeys(named.agency_files(), self.file_requests)  # asked by file: agency_files.py
        local = self.local_agencies if len(api) < 3 or self.settings.agency_registries else None
        return Agencies(
            public_security=api.get("public-security") or _local(local),
            housing=api.get("housing") or _local(local),
            planning=api.get("planning") or _local(local),
            community=local if local is not None else VisitsByCallback(),
        )

    @cached_property
    def file_worklists(self) -> DynamoFileRequestStore:
        """The files agencies' open requests (agency_files.py)."""
        return DynamoFileRequestStore(self.settings.table_name)

    @cached_property
    def file_requests(self) -> FileRequests:
        """The port of every agency exchanging files: its checks wait on its worklist."""
        return FileRequests(self.config.season, self.file_worklists)

    @cached_property
    def work(self) -> WorkBucket:
        return WorkBucket(self.settings.work_bucket)

    @cached_property
    def tokens(self) -> SfnTaskTokens:
        return SfnTaskTokens()

    @cached_property
    def workflow(self) -> SfnWorkflow:
        """The season's state machine (STATE_MACHINE_ARN): its execution started and described."""
        return SfnWorkflow(self.settings.state_machine_arn)

    @cached_property
    def season_counts(self) -> DynamoSeasonCounts:
        return DynamoSeasonCounts(self.settings.table_name)

    @cached_property
    def idempotency_store(self) -> DynamoDBPersistenceLayer:
        return DynamoDBPersistenceLayer(
            table_name=self.settings.idempotency_table_name, boto3_client=dynamodb_client()
        )

    @cached_property
    def idempotency_config(self) -> IdempotencyConfig:
        # the same body within a day returns the first answer; errors are never stored
        return IdempotencyConfig(expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True)


@cache
def wiring() -> Wiring:
    return Wiring(settings())


def _season_seconds() -> float:
    return clock.now().timestamp()


def _local(local: LocalRegistries | None) -> LocalRegistries:
    assert local is not None  # every agency has an API when there are no registries
    return local
