"""Every SMS the season sends, tracked to its delivery (issue 17), pure rules over two ports.

Each SMS sent (a notice's, a sign-in code's) gets a message record (`SmsRecord`): the provider's
message id (Alibaba Cloud's BizId, Tencent Cloud's SerialNo, SNS's MessageId), the template, what it
was for, the registration and district, the phone masked, and its status: `sent`, then `delivered`
or `failed` with the provider's error code and time, from the provider's receipts (`SmsReceipts`).

No phone number is kept in a record, only its mask (`138****5678`) and which of the registration's
guardian phones it went to (`guardian`, an index into `guardian_phones`): retrying a notice, and
asking Alibaba Cloud about a message (its QuerySendDetails needs the number), read the number from
the registration, where the family gave it (R-DATA-1); once the season's personal data is erased
there is no number to read, and the message stays as it last was.

Receipts are polled (`poll`, every 15 minutes: functions/notify/receipts.py): Alibaba Cloud is asked
about each open message (QuerySendDetails), Tencent Cloud hands out its queue of receipts
(PullSmsSendStatus). SNS gives receipts only as CloudWatch Logs delivery logs, which no SDK call
reads back per message: an SNS (or outbox) message is recorded `sent` and that is final
(`tracked=False`). A message with no receipt `receipt_wait_hours` after it was sent is no longer
asked about and stays `sent`.

A failed notice SMS (R-NOTE-1: the notice must reach the family) is sent again after
`retry_after_minutes`, doubling, up to `notice_attempts` sends; still failed (or refused when sent:
a wrong number is not worth a second try) it is listed to the child's district (`SmsFailure`) for
staff to phone the family, who mark it phoned. A failed sign-in code is listed the same way only if
the season offers the staff fallback (`otp_fallback: staff`); otherwise the parent asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig, SmsDelivery
from enrollment.core.idcard import mask_phone
from enrollment.core.ports import Sms, SmsRejected, SmsThrottled
from enrollment.core.sms_templates import SmsMessage

Purpose = Literal["notice", "code", "other"]
Status = Literal["sent", "delivered", "failed"]
SENT: Status = "sent"
DELIVERED: Status = "delivered"
FAILED: Status = "failed"
NOTICE: Purpose = "notice"
CODE: Purpose = "code"
REJECTED_PREFIX = "rejected-"  # the id of a message the provider refused when sent (it gave none)
METRIC_FAILED = "SmsDeliveryFailed"  # each failed SMS, dimension `purpose` (and the season)
PURPOSE_DIMENSION = "purpose"

# The provider's codes a district's staff may read as Chinese (the code itself is never shown).
WRONG_NUMBER = frozenset(
    {"isv.MOBILE_NUMBER_ILLEGAL", "InvalidParameterValue.IncorrectPhoneNumber", "InvalidParameter"}
)
TEMPLATE_REFUSED = frozenset(
    {
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.SignatureIncorrectOrUnapproved",
    }
)
ERROR_ZH_WRONG_NUMBER = "手机号码有误，短信无法发出"
ERROR_ZH_TEMPLATE = "短信模板或签名未获运营商通过，短信无法发出，请联系市教育局"
ERROR_ZH_UNDELIVERED = "短信未送达（手机可能关机、停机、欠费或拒收短信）"


@dataclass(frozen=True)
class SmsRecord:
    message_id: str
    season: str
    purpose: Purpose
    template: str
    phone_masked: str
    guardian: int  # which of the registration's guardian phones (guardian_phones order)
    sent_at: datetime
    registration_id: str = ""
    district: str = ""
    school_id: str = ""
    # a notice's template variables, to send the same SMS again (a code's are never kept: the code)
    params: Mapping[str, str] = field(default_factory=dict)
    attempt: int = 1  # this send's number among the sends of the same notice
    tracked: bool = True  # a receipt will come (False: SNS and the outbox, where `sent` is final)
    status: Status = SENT
    error_code: str = ""
    status_at: datetime | None = None
    retry_at: datetime | None = None  # a failed notice's next send, while it waits for it
    asked_at: datetime | None = None  # last asked about with no receipt yet: its place in the open list


@dataclass(frozen=True)
class Receipt:
    """The provider's word on one message: delivered, or failed with its error code, and when."""

    message_id: str
    delivered: bool
    error_code: str
    at: datetime


@dataclass(frozen=True)
class SmsFailure:
    """One SMS listed to its district to phone the family: the last failed message of a notice (or,
    with the staff fallback, of a code), and, once staff phoned, who and when."""

    season: str
    district: str
    registration_id: str
    purpose: Purpose
    school_id: str
    phone_masked: str
    guardian: int
    attempts: int
    error_code: str
    failed_at: datetime
    message_id: str
    phoned_by: str = ""
    phoned_at: datetime | None = None


class SmsMessageStore(Protocol):
    def put_message(self, record: SmsRecord) -> None:
        """Write the record; a tracked `sent` one is also listed open, to be asked about."""
        ...

    def message(self, message_id: str) -> SmsRecord | None: ...

    def open_messages(self, season: str, limit: int) -> list[SmsRecord]:
        """Sent messages awaiting a receipt, least recently asked about first, at most `limit`."""
        ...

    def defer(self, record: SmsRecord, asked_at: datetime) -> None:
        """Move an open message asked about without an answer behind the others (`asked_at`), so
        that messages whose receipts are slow never keep the newer ones from being asked."""
        ...

    def settle(self, record: SmsRecord) -> bool:
        """Store the record's final status if the stored one is still `sent` (and take it off the
        open list). False if it was settled already (a receipt seen twice)."""
        ...

    def close(self, record: SmsRecord) -> None:
        """Take a message off the open list without a status (no receipt came in time)."""
        ...

    def put_retry(self, record: SmsRecord) -> None:
        """List a failed notice SMS to be sent again at its `retry_at`."""
        ...

    def due_retries(self, season: str, now: datetime, limit: int) -> list[SmsRecord]: ...

    def drop_retry(self, record: SmsRecord) -> None: ...

    def put_failure(self, failure: SmsFailure) -> None:
        """List the failure to its district (replacing an earlier one of the same registration and
        purpose: the family is phoned once about the latest)."""
        ...

    def failures(self, season: str, district: str) -> list[SmsFailure]: ...

    def failure(
        self, season: str, district: str, registration_id: str, purpose: str
    ) -> SmsFailure | None: ...

    def mark_phoned(self, failure: SmsFailure, by: str, at: datetime) -> bool:
        """Record who phoned the family and when, if not recorded yet. False if someone did already."""
        ...


class SmsReceipts(Protocol):
    tracks_receipts: bool  # False: the provider gives no receipts to poll (SNS, the outbox)

    def receipts(self, pending: Sequence[tuple[SmsRecord, str]]) -> Iterable[Receipt]:
        """Receipts for (some of) these open messages, each with its phone number, as they come; the
        provider may answer for others of the season's messages too (Tencent Cloud's queue).
        SmsThrottled, raised while iterating, if it asks to slow down (after the adapter's own
        retries): the receipts given so far count, the rest wait for the next run."""
        ...


class TrackedSms(Sms, SmsReceipts, Protocol):
    """A provider adapter: it sends, and says whether and how its receipts are polled."""


@dataclass(frozen=True)
class Tracking:
    """Where the senders (notices, codes) record their messages, and what follows a failure."""

    store: SmsMessageStore
    tracked: bool  # the provider's receipts are polled (Alibaba Cloud, Tencent Cloud)
    delivery: SmsDelivery


class Registrations(Protocol):
    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...


def phones_of(registration: Mapping[str, Any]) -> list[str]:
    """The guardian phones of a registration, in order (as enrollment/people/parents.guardian_phones)."""
    request = registration.get("request") or {}
    return [str(g["phone"]) for g in request.get("guardians", []) if g.get("phone")]


def error_zh(code: str) -> str:
    """A failure as the district's staff read it: no provider code, what it means for the call."""
    if code in WRONG_NUMBER:
        return ERROR_ZH_WRONG_NUMBER
    if code in TEMPLATE_REFUSED:
        return ERROR_ZH_TEMPLATE
    return ERROR_ZH_UNDELIVERED


def send(
    sms: Sms,
    receipts_tracked: bool,
    store: SmsMessageStore,
    phone: str,
    message: SmsMessage,
    record: SmsRecord,
    now: datetime,
) -> SmsRecord:
    """Send one SMS and record it: `sent` with the provider's id, or `failed` with the provider's code
    if it refused the message (SmsRejected, not raised: the caller decides what a failure means).
    SmsThrottled is raised as before (nothing recorded: the caller sends again later)."""
    try:
        message_id = sms.send(phone, message)
    except SmsRejected as e:
        failed = replace(
            record,
            message_id=f"{REJECTED_PREFIX}{record.purpose}-{record.registration_id}-{now.strftime('%Y%m%dT%H%M%S%f')}",
            tracked=False,
            status=FAILED,
            error_code=e.code,
            status_at=now,
        )
        store.put_message(failed)
        return failed
    sent = replace(record, message_id=message_id, tracked=receipts_tracked, sent_at=now)
    store.put_message(sent)
    return sent


def new_record(
    season: str,
    purpose: Purpose,
    message: SmsMessage,
    phone: str,
    guardian: int,
    now: datetime,
    *,
    registration_id: str = "",
    district: str = "",
    school_id: str = "",
    attempt: int = 1,
) -> SmsRecord:
    return SmsRecord(
        message_id="",
        season=season,
        purpose=purpose,
        template=message.template,
        phone_masked=mask_phone(phone),
        guardian=guardian,
        sent_at=now,
        registration_id=registration_id,
        district=district,
        school_id=school_id,
        params=dict(message.params) if purpose == NOTICE else {},
        attempt=attempt,
    )


def retry_due(record: SmsRecord, delivery: SmsDelivery, failed_at: datetime) -> datetime | None:
    """When a failed notice SMS is sent again, or None if it has had its sends (or is not a notice)."""
    if record.purpose != NOTICE or record.attempt >= delivery.notice_attempts:
        return None
    if record.error_code in WRONG_NUMBER or record.error_code in TEMPLATE_REFUSED:
        return None  # the same answer again
    return failed_at + timedelta(minutes=delivery.retry_after_minutes * 2 ** (record.attempt - 1))


def listed(record: SmsRecord, delivery: SmsDelivery) -> bool:
    """Whether a failed SMS (its sends done) goes to its district's list: every notice; a code only
    with the staff fallback; nothing without a registration to phone about."""
    if not record.registration_id or not record.district:
        return False
    return record.purpose == NOTICE or (record.purpose == CODE and delivery.otp_fallback == "staff")


def failure_of(record: SmsRecord) -> SmsFailure:
    return SmsFailure(
        season=record.season,
        district=record.district,
        registration_id=record.registration_id,
        purpose=record.purpose,
        school_id=record.school_id,
        phone_masked=record.phone_masked,
        guardian=record.guardian,
        attempts=record.attempt,
        error_code=record.error_code,
        failed_at=record.status_at or record.sent_at,
        message_id=record.message_id,
    )


@dataclass
class Outcome:
    """What one failed SMS led to: a retry scheduled, or a failure listed (or neither)."""

    retry_at: datetime | None = None
    listed: bool = False


def after_failure(record: SmsRecord, delivery: SmsDelivery, *, store: SmsMessageStore) -> Outcome:
    """A failed SMS (at its send or by its receipt): a notice's next send scheduled, or the failure
    listed to its district when the sends are done (see `listed`)."""
    at = record.status_at or record.sent_at
    due = retry_due(record, delivery, at)
    if due is not None:
        store.put_retry(replace(record, retry_at=due))
        return Outcome(retry_at=due)
    if listed(record, delivery):
        store.put_failure(failure_of(record))
        return Outcome(listed=True)
    return Outcome()


@dataclass
class PollResult:
    asked: int = 0
    delivered: int = 0
    failed: list[Purpose] = field(default_factory=list)  # each failed SMS's purpose (the metric)
    listed: int = 0
    retried: int = 0
    retries_failed: int = 0
    expired: int = 0  # no receipt within receipt_wait_hours: asked no more
    throttled: bool = False  # the provider asked to slow down: the rest wait for the next run

    def summary(self) -> dict[str, Any]:
        return {
            "asked": self.asked,
            "delivered": self.delivered,
            "failed": len(self.failed),
            "listed": self.listed,
            "retried": self.retried,
            "retries_failed": self.retries_failed,
            "expired": self.expired,
            "throttled": self.throttled,
        }


def poll(
    config: SeasonConfig,
    season: str,
    *,
    store: SmsMessageStore,
    receipts: SmsReceipts,
    sms: Sms,
    registrations: Registrations,
    now: datetime,
    count_notices: Callable[[int], None] = lambda n: None,
) -> PollResult:
    """One run of the receipts task: record the receipts of the open messages, send again the failed
    notices whose retry is due, list what has had its sends. `count_notices(n)`: the retried notices
    counted in the season's SMS spend (sms_caps.record_notices)."""
    delivery = config.sms_delivery
    result = PollResult()
    _receive(
        delivery, season, store=store, receipts=receipts, registrations=registrations, now=now, result=result
    )
    _retry(
        delivery,
        season,
        store=store,
        sms=sms,
        receipts=receipts,
        registrations=registrations,
        now=now,
        result=result,
    )
    count_notices(result.retried)
    return result


def _phones(records: Sequence[SmsRecord], registrations: Registrations) -> dict[str, list[str]]:
    ids = sorted({r.registration_id for r in records if r.registration_id})
    return {rid: phones_of(reg) for rid, reg in registrations.get_registrations(ids).items()} if ids else {}


def _phone(record: SmsRecord, phones: Mapping[str, list[str]]) -> str | None:
    """The number the message went to, if the registration still names it (the mask must match)."""
    numbers = phones.get(record.registration_id, [])
    if record.guardian >= len(numbers) or mask_phone(numbers[record.guardian]) != record.phone_masked:
        return None
    return numbers[record.guardian]


def _receive(
    delivery: SmsDelivery,
    season: str,
    *,
    store: SmsMessageStore,
    receipts: SmsReceipts,
    registrations: Registrations,
    now: datetime,
    result: PollResult,
) -> None:
    if not receipts.tracks_receipts:
        return
    wait = timedelta(hours=delivery.receipt_wait_hours)
    pending: list[tuple[SmsRecord, str]] = []
    open_ = store.open_messages(season, delivery.receipts_per_run)
    phones = _phones(open_, registrations)
    for record in open_:
        phone = _phone(record, phones)
        if now - record.sent_at > wait or phone is None:
            store.close(record)  # no receipt in time, or no number left to ask with: stays `sent`
            result.expired += 1
            continue
        pending.append((record, phone))
    result.asked = len(pending)
    answers = iter(receipts.receipts(pending) if pending else ())
    answered: set[str] = set()
    while True:
        try:
            receipt = next(answers, None)
        except SmsThrottled:
            result.throttled = True
            return  # those not asked yet keep their place for the next run
        if receipt is None:
            break
        answered.add(receipt.message_id)
        stored = store.message(receipt.message_id)
        if stored is None or stored.status != SENT or stored.season != season:
            continue  # not the season's, or settled already (a receipt seen twice)
        settled = replace(
            stored,
            status=DELIVERED if receipt.delivered else FAILED,
            error_code="" if receipt.delivered else receipt.error_code,
            status_at=receipt.at,
        )
        if not store.settle(settled):
            continue
        if receipt.delivered:
            result.delivered += 1
            continue
        result.failed.append(settled.purpose)
        result.listed += after_failure(settled, delivery, store=store).listed
    for record, _ in pending:
        if record.message_id not in answered:
            store.defer(record, now)


def _retry(
    delivery: SmsDelivery,
    season: str,
    *,
    store: SmsMessageStore,
    sms: Sms,
    receipts: SmsReceipts,
    registrations: Registrations,
    now: datetime,
    result: PollResult,
) -> None:
    due = store.due_retries(season, now, delivery.receipts_per_run)
    phones = _phones(due, registrations)
    for record in due:
        phone = _phone(record, phones)
        if phone is None:  # the number is gone (erased) or changed: the district phones instead
            store.drop_retry(record)
            store.put_failure(failure_of(record))
            result.listed += 1
            continue
        again = replace(
            record,
            message_id="",
            status=SENT,
            error_code="",
            status_at=None,
            retry_at=None,
            attempt=record.attempt + 1,
        )
        try:
            sent = send(
                sms,
                receipts.tracks_receipts,
                store,
                phone,
                SmsMessage(record.template, record.params),
                again,
                now,
            )
        except SmsThrottled:
            result.throttled = True
            return  # still listed as due: the next run sends it
        store.drop_retry(record)
        result.retried += 1
        if sent.status == FAILED:
            result.retries_failed += 1
            result.failed.append(sent.purpose)
            result.listed += after_failure(sent, delivery, store=store).listed
