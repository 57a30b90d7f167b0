"""SMS delivery tracked (issue 17): a message record per SMS on moto's DynamoDB, receipts polled
through the real SDKs from loopback fakes of Alibaba Cloud (QuerySendDetails) and Tencent Cloud
(PullSmsSendStatus), a throttled poll asked again, a failed notice sent again then listed to its
district, and a failed sign-in code handled as the season's `otp_fallback` says. Synthetic people and
phone numbers only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from enrollment.adapters import sms_providers
from enrollment.adapters.notifications import OutboxSms, SnsSms
from enrollment.adapters.sms_aliyun import AliyunSms
from enrollment.adapters.sms_message_store import DynamoSmsMessageStore
from enrollment.adapters.sms_tencent import TencentSms
from enrollment.core import sms_delivery
from enrollment.core.config import SeasonConfig, SmsProvider, load_season
from enrollment.core.ports import SmsRejected, StoreUnavailable
from enrollment.core.sms_caps import SmsCapStore
from enrollment.core.sms_templates import NOTICE, SmsMessage
from enrollment.people import parents
from enrollment.people import sms_failures as listing
from tests.integration.sms_fakes import ALIYUN_OFF, SENT_ON, TENCENT_OFF, UNREACHABLE, serve
from tests.integration.test_sms_providers import ALIYUN_CODES, TENCENT_CODES

REGION = "cn-north-1"
TABLE = "season-sms"
BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime.fromisoformat(f"{SENT_ON}T18:00:00").replace(tzinfo=BEIJING)
PHONE = "13812345678"
DISTRICT = "CY"
SCHOOL = "S-CY-01"


class Registrations:
    """The registrations' port over a dict: each child's guardians' phones and name."""

    def __init__(self, phones: dict[str, list[str]]) -> None:
        self.phones = phones

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {
            rid: {
                "registration_id": rid,
                "district": DISTRICT,
                "request": {
                    "child": {"name": "王梓涵"},
                    "guardians": [{"name": "王家长", "phone": p} for p in self.phones[rid]],
                },
            }
            for rid in registration_ids
            if rid in self.phones
        }


class Spend:
    """Counts the retried notices counted in the season's SMS spend."""

    def __init__(self) -> None:
        self.notices = 0

    def __call__(self, n: int) -> None:
        self.notices += n


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws(), mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": REGION}):
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield boto3.client("secretsmanager")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sms_providers, "RECEIPT_BACKOFF_S", 0.01)


def config(**delivery: Any) -> SeasonConfig:
    raw = load_season("jilin-2023").model_dump(mode="json")
    raw["sms_delivery"] = delivery
    return SeasonConfig.model_validate(raw)


def aliyun(secrets: Any, url: str) -> AliyunSms:
    arn = secrets.create_secret(
        Name="aliyun", SecretString=json.dumps({"access_key_id": "LTAI5tSynthetic", "access_key_secret": "s"})
    )["ARN"]
    settings = {
        "provider": "aliyun",
        "sign_name": "吉林市教育局",
        "credentials_secret_arn": arn,
        "endpoint": url,
    }
    return AliyunSms(SmsProvider.model_validate(settings | ALIYUN_CODES))


def tencent(secrets: Any, url: str) -> TencentSms:
    arn = secrets.create_secret(
        Name="tencent", SecretString=json.dumps({"secret_id": "AKIDSynthetic", "secret_key": "k"})
    )["ARN"]
    settings = {
        "provider": "tencent",
        "sign_name": "吉林市教育局",
        "credentials_secret_arn": arn,
        "endpoint": url,
        "sdk_app_id": "1400787878",
    }
    return TencentSms(SmsProvider.model_validate(settings | TENCENT_CODES))


def notice_message(rid: str) -> SmsMessage:
    return SmsMessage(
        NOTICE.id,
        {
            "registration_id": rid,
            "school": "船营区第一实验小学",
            "day": "7月8日",
            "hours": "8:30-11:30",
            "system": "吉林市“幼升小”管理系统",
        },
    )


def send_notice(
    sms: Any, store: DynamoSmsMessageStore, season: SeasonConfig, rid: str, phone: str, now: datetime = T0
) -> sms_delivery.SmsRecord:
    message = notice_message(rid)
    record = sms_delivery.new_record(
        season.season,
        sms_delivery.NOTICE,
        message,
        phone,
        0,
        now,
        registration_id=rid,
        district=DISTRICT,
        school_id=SCHOOL,
    )
    sent = sms_delivery.send(sms, sms.tracks_receipts, store, phone, message, record, now)
    if sent.status == sms_delivery.FAILED:
        sms_delivery.after_failure(sent, season.sms_delivery, store=store)
    return sent


def poll(
    sms: Any,
    store: DynamoSmsMessageStore,
    season: SeasonConfig,
    regs: Registrations,
    now: datetime,
    spend: Spend | None = None,
) -> sms_delivery.PollResult:
    return sms_delivery.poll(
        season,
        season.season,
        store=store,
        receipts=sms,
        sms=sms,
        registrations=regs,
        now=now,
        count_notices=spend or Spend(),
    )


def items() -> list[dict[str, Any]]:
    return boto3.resource("dynamodb").Table(TABLE).scan()["Items"]


# --- the message record ------------------------------------------------------------------------


def test_each_sms_has_a_record_with_the_providers_id_and_no_phone_number(aws: Any) -> None:
    season, store = config(), DynamoSmsMessageStore(TABLE)
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        sent = send_notice(aliyun(aws, fake.url), store, season, "R2023-000042", PHONE)
    [biz_id] = fake.sent
    assert sent.message_id == biz_id and sent.status == "sent" and sent.tracked
    stored = store.message(biz_id)
    assert stored is not None
    assert (stored.template, stored.purpose, stored.registration_id, stored.district) == (
        "notice-admitted",
        "notice",
        "R2023-000042",
        DISTRICT,
    )
    assert stored.phone_masked == "138****5678" and stored.guardian == 0
    assert stored.params == dict(notice_message("R2023-000042").params)  # to send the same again
    assert PHONE not in json.dumps(items(), default=str, ensure_ascii=False)  # the number is nowhere
    assert [r.message_id for r in store.open_messages(season.season, 10)] == [biz_id]


def test_a_throttled_message_record_is_written_again_not_the_sms(aws: Any, tmp_path: Path) -> None:
    """The record is written after the SMS is out, by BatchWriteItem: AWS's throttling error from it
    (as boto3 raises it once its own retries are spent) must be tried again by the store, not fail the
    notice batch, whose retry would text the family a second time."""
    season, store = config(), DynamoSmsMessageStore(TABLE)
    outbox = OutboxSms(str(tmp_path / "outbox.jsonl"))
    throttled: list[str] = []

    def throttle_first_batch_write(event_name: str, **_: object) -> None:
        if event_name.endswith(".BatchWriteItem") and not throttled:
            throttled.append(event_name)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "BatchWriteItem",
            )

    store.table.meta.client.meta.events.register("before-call", throttle_first_batch_write)
    sent = send_notice(outbox, store, season, "R2023-000042", PHONE)
    assert throttled, "the record's write was not throttled: the test tests nothing"
    assert len(outbox.path.read_text(encoding="utf-8").splitlines()) == 1  # one SMS
    stored = store.message(sent.message_id)
    assert stored is not None and stored.status == "sent" and stored.registration_id == "R2023-000042"


def test_a_throttled_batch_write_fails_as_store_unavailable(aws: Any) -> None:
    """Every unconditional batched put says "try later" as the ASL retries it, not as AWS's raw error."""
    store = DynamoSmsMessageStore(TABLE)

    def throttle(event_name: str, **_: object) -> None:
        if event_name.endswith(".BatchWriteItem"):
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "BatchWriteItem")

    store.table.meta.client.meta.events.register("before-call", throttle)
    with pytest.raises(StoreUnavailable):
        store._put_all([{"pk": "X", "sk": "Y"}])


def test_an_sns_message_is_sent_and_that_is_final(aws: Any) -> None:
    season, store = config(), DynamoSmsMessageStore(TABLE)
    sent = send_notice(SnsSms(), store, season, "R2023-000042", PHONE)
    assert sent.status == "sent" and not sent.tracked
    assert store.open_messages(season.season, 10) == []  # nothing to ask about
    result = poll(SnsSms(), store, season, Registrations({"R2023-000042": [PHONE]}), T0 + timedelta(hours=1))
    assert result.asked == 0 and store.message(sent.message_id) == sent


# --- receipts through each SDK ---------------------------------------------------------------


@pytest.mark.parametrize(("provider", "off"), [("aliyun", ALIYUN_OFF), ("tencent", TENCENT_OFF)])
def test_receipts_say_delivered_or_failed(aws: Any, provider: str, off: str) -> None:
    season, store = config(), DynamoSmsMessageStore(TABLE)
    regs = Registrations({"R2023-000001": [PHONE], "R2023-000002": [UNREACHABLE]})
    codes = ALIYUN_CODES if provider == "aliyun" else TENCENT_CODES
    with serve(provider, set(codes.values())) as fake:
        sms = aliyun(aws, fake.url) if provider == "aliyun" else tencent(aws, fake.url)
        good = send_notice(sms, store, season, "R2023-000001", PHONE)
        bad = send_notice(sms, store, season, "R2023-000002", UNREACHABLE)
        result = poll(sms, store, season, regs, T0 + timedelta(minutes=15))
        again = poll(sms, store, season, regs, T0 + timedelta(minutes=30))
    assert (result.asked, result.delivered, result.failed) == (2, 1, ["notice"])
    delivered, failed = store.message(good.message_id), store.message(bad.message_id)
    assert delivered is not None and failed is not None
    assert delivered.status == "delivered" and delivered.error_code == ""
    assert delivered.status_at == datetime.fromisoformat(f"{SENT_ON}T18:00:09").replace(tzinfo=BEIJING)
    assert failed.status == "failed" and failed.error_code == off
    assert store.open_messages(season.season, 10) == []  # both settled: asked no more
    assert again.asked == 0 and again.delivered == 0
    [retry] = store.due_retries(season.season, T0 + timedelta(days=1), 10)  # the failed notice waits
    assert retry.message_id == bad.message_id and retry.retry_at == failed.status_at + timedelta(minutes=30)
    if provider == "aliyun":  # asked by number, send date (Beijing) and BizId
        queries = [r["params"] for r in fake.requests if r["params"].get("Action") == "QuerySendDetails"]
        assert {(q["PhoneNumber"], q["SendDate"], q["BizId"]) for q in queries} == {
            (PHONE, SENT_ON.replace("-", ""), good.message_id),
            (UNREACHABLE, SENT_ON.replace("-", ""), bad.message_id),
        }
    else:  # the application's queue, by its SdkAppId
        pulls = [r["body"] for r in fake.requests if r["headers"]["X-TC-Action"] == "PullSmsSendStatus"]
        assert pulls and all(p == {"SmsSdkAppId": "1400787878", "Limit": 100} for p in pulls)


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_throttled_poll_is_asked_again_and_then_left_for_the_next_run(aws: Any, provider: str) -> None:
    season, store = config(), DynamoSmsMessageStore(TABLE)
    regs = Registrations({"R2023-000001": [PHONE]})
    codes = ALIYUN_CODES if provider == "aliyun" else TENCENT_CODES
    with serve(provider, set(codes.values())) as fake:
        sms = aliyun(aws, fake.url) if provider == "aliyun" else tencent(aws, fake.url)
        sent = send_notice(sms, store, season, "R2023-000001", PHONE)
        fake.throttle_queries = 2  # twice "not now", then the answer: within the adapter's retries
        first = poll(sms, store, season, regs, T0 + timedelta(minutes=15))
        assert first.delivered == 1 and not first.throttled and fake.throttle_queries == 0
        later = send_notice(sms, store, season, "R2023-000001", PHONE, T0 + timedelta(minutes=20))
        fake.throttle_queries = sms_providers.RECEIPT_ATTEMPTS  # throttled past the retries
        second = poll(sms, store, season, regs, T0 + timedelta(minutes=30))
        assert second.throttled and second.delivered == 0
        assert [r.message_id for r in store.open_messages(season.season, 10)] == [later.message_id]
        third = poll(sms, store, season, regs, T0 + timedelta(minutes=45))
    assert third.delivered == 1 and not third.throttled
    assert store.message(sent.message_id).status == store.message(later.message_id).status == "delivered"  # type: ignore[union-attr]


# --- a failed notice: sent again, then listed to its district ----------------------------------


def test_a_failed_notice_is_sent_again_then_listed_to_its_district(aws: Any) -> None:
    season, store = config(notice_attempts=3, retry_after_minutes=30), DynamoSmsMessageStore(TABLE)
    rid = "R2023-000002"
    regs, spend = Registrations({rid: [UNREACHABLE]}), Spend()
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        sms = aliyun(aws, fake.url)
        send_notice(sms, store, season, rid, UNREACHABLE)
        receipt_at = datetime.fromisoformat(f"{SENT_ON}T18:00:09").replace(tzinfo=BEIJING)
        steps = [
            poll(sms, store, season, regs, T0 + timedelta(minutes=10), spend),  # failed: retry at +30
            poll(sms, store, season, regs, receipt_at + timedelta(minutes=29), spend),  # not due yet
            poll(sms, store, season, regs, receipt_at + timedelta(minutes=31), spend),  # 2nd send
            poll(sms, store, season, regs, receipt_at + timedelta(minutes=40), spend),  # failed: +60
            poll(sms, store, season, regs, receipt_at + timedelta(minutes=61), spend),  # 3rd send
            poll(sms, store, season, regs, receipt_at + timedelta(minutes=70), spend),  # failed: listed
        ]
    sends = [r["params"] for r in fake.requests if r["params"].get("Action") == "SendSms"]
    assert len(sends) == 3 and len({s["TemplateParam"] for s in sends}) == 1  # the same SMS each time
    assert [s.retried for s in steps] == [0, 0, 1, 0, 1, 0]
    assert [len(s.failed) for s in steps] == [1, 0, 0, 1, 0, 1]
    assert [s.listed for s in steps] == [0, 0, 0, 0, 0, 1]
    assert spend.notices == 2  # the retries count in the season's SMS spend
    [failure] = store.failures(season.season, DISTRICT)
    assert (failure.registration_id, failure.purpose, failure.attempts, failure.error_code) == (
        rid,
        "notice",
        3,
        ALIYUN_OFF,
    )
    assert store.due_retries(season.season, receipt_at + timedelta(days=1), 10) == []
    [row] = listing.rows(season, [failure], regs)
    assert row["child"] == "王**" and row["school"] == season.school_index[SCHOOL].name
    assert row["phone"] == UNREACHABLE and row["attempts"] == 3 and not row["phoned"]
    assert row["error_zh"] == sms_delivery.ERROR_ZH_UNDELIVERED


def test_a_notice_refused_when_sent_is_listed_at_once(aws: Any) -> None:
    season, store = config(), DynamoSmsMessageStore(TABLE)
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        sent = send_notice(aliyun(aws, fake.url), store, season, "R2023-000003", "1381234567")
    assert sent.status == "failed" and sent.error_code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert sent.message_id.startswith(sms_delivery.REJECTED_PREFIX) and not sent.tracked
    [failure] = store.failures(season.season, DISTRICT)
    assert (
        failure.attempts == 1
        and sms_delivery.error_zh(failure.error_code) == sms_delivery.ERROR_ZH_WRONG_NUMBER
    )
    assert store.due_retries(season.season, T0 + timedelta(days=1), 10) == []  # a wrong number: no retry


# --- sign-in codes: the fallback the config names ------------------------------------------------


class RefusingSms:
    tracks_receipts = True

    def send(self, phone: str, message: SmsMessage) -> str:
        raise SmsRejected("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")


class Caps(SmsCapStore):
    """Caps that never refuse (the caps are tested elsewhere)."""

    def phone_sends(self, phone_key: str) -> None:
        return None

    def put_phone_sends(self, record: Any, expected_version: int | None) -> bool:
        return True

    def minute_counts(self, minutes: Any) -> dict[Any, Any]:
        return {}

    def add_codes(self, minute: datetime, count: int, most: int) -> bool:
        return True

    def add_notices(self, minute: datetime, count: int) -> None:
        pass


class CodeStore:
    def __init__(self) -> None:
        self.record: Any = None

    def code_record(self, registration_id: str) -> Any:
        return self.record

    def put_code_record(self, record: Any, expected_version: int | None) -> bool:
        self.record = record
        return True


def ask_code(season: SeasonConfig, store: DynamoSmsMessageStore) -> parents.CodeSent:
    return parents.request_code(
        "R2023-000042",
        [PHONE],
        store=CodeStore(),  # type: ignore[arg-type]
        sms=RefusingSms(),
        secret=b"synthetic-parent-secret-0123456789",
        caps=parents.CodeCaps(season.sms, Caps()),
        now=T0,
        code="123456",
        tracking=sms_delivery.Tracking(store, True, season.sms_delivery),
        season=season.season,
        district=DISTRICT,
    )


def test_a_failed_code_without_a_fallback_is_told_plainly_and_listed_nowhere(aws: Any) -> None:
    season, store = config(), DynamoSmsMessageStore(TABLE)
    result = ask_code(season, store)
    assert (result.sent, result.failed) == (0, 1)
    assert parents.code_answer(season, result, DISTRICT) == (parents.CODE_FAILED_ZH, parents.CODE_FAILED_EN)
    assert store.failures(season.season, DISTRICT) == []
    [record] = [i for i in items() if i["type"] == "sms-message"]
    assert record["purpose"] == "code" and record["status"] == "failed" and record["params"] == {}
    assert "123456" not in json.dumps(items(), default=str)  # the code is never kept
    # a request that went out reads as always, and says nothing of a hotline
    assert parents.code_answer(season, parents.CodeSent(1, ()), DISTRICT)[0] == parents.CODE_SENT_ZH


def test_a_failed_code_with_the_staff_fallback_names_the_hotline_and_is_listed(aws: Any) -> None:
    hotlines = {d.code: f"0432-6200100{i}" for i, d in enumerate(load_season("jilin-2023").districts)}
    season, store = config(otp_fallback="staff", hotlines=hotlines), DynamoSmsMessageStore(TABLE)
    result = ask_code(season, store)
    message, _ = parents.code_answer(season, result, DISTRICT)
    assert season.district_index[DISTRICT].name in message and hotlines[DISTRICT] in message
    [failure] = store.failures(season.season, DISTRICT)
    assert failure.purpose == "code" and failure.registration_id == "R2023-000042"
    # every answer, for any id, tells of the hotline (never which district: that would tell the id exists)
    sent = parents.code_answer(season, parents.CodeSent(1, ()), DISTRICT)[0]
    assert sent == parents.CODE_SENT_ZH + parents.CODE_FALLBACK_ZH
    assert parents.code_answer(season, None, "")[0] == sent


# --- the rule's invocation: notify-batch's function with `task: sms-receipts` --------------------


def test_the_rule_polls_in_notify_batchs_function_and_a_due_notice_goes_out_again(tmp_path: Any) -> None:
    """As the EventBridge rule invokes it (embedded backend, moto): the outbox gives no receipts to
    ask about, and a failed notice whose retry is due is sent again, from the registration's phone."""
    from enrollment.adapters.dynamodb import DynamoStore
    from enrollment.core.clock import SimulatedClock
    from enrollment.core.resources import function_name
    from enrollment.local.runtime import EmbeddedSeason
    from tests.integration.conftest import at, post
    from tests.support import mother, valid_body

    season = load_season("jilin-2023")
    start = at(season, f"{season.calendar.grade1_registration.start} 10:00")
    with EmbeddedSeason(season, SimulatedClock(start)) as rt:
        status, answer = post(
            rt,
            valid_body(season, guardians=[mother(season, "17000001234")]),
        )
        assert status == 201, answer
        rid = str(answer["registration_id"])
        district = DynamoStore(rt.table_name).get_registration(rid)["district"]
        store = DynamoSmsMessageStore(rt.table_name)
        failed = sms_delivery.SmsRecord(
            message_id="900619746936498400^0",
            season=season.season,
            purpose="notice",
            template=NOTICE.id,
            phone_masked="170****1234",
            guardian=0,
            sent_at=start - timedelta(hours=2),
            registration_id=rid,
            district=str(district),
            school_id=SCHOOL,
            params=dict(notice_message(rid).params),
            status="failed",
            error_code=ALIYUN_OFF,
            status_at=start - timedelta(hours=1),
            retry_at=start - timedelta(minutes=30),
        )
        store.put_message(failed)
        store.put_retry(failed)
        event = {"season": season.season, "task": "sms-receipts"}
        reply = boto3.client("lambda").invoke(
            FunctionName=function_name(season.name, "notify-batch"), Payload=json.dumps(event).encode()
        )
        out = json.loads(reply["Payload"].read())
        assert not reply.get("FunctionError"), out
        lines = [json.loads(x) for x in Path(rt.sms_outbox).read_text(encoding="utf-8").splitlines()]
        assert out["retried"] == 1 and out["asked"] == 0 and out["failed"] == 0, out
        [resent] = [x for x in lines if x["template"] == NOTICE.id]
        assert resent["to"] == "170****1234" and rid in resent["text"]
        again = store.message(resent["id"])
        assert again is not None and again.attempt == 2 and again.status == "sent" and not again.tracked
        assert store.due_retries(season.season, start + timedelta(days=1), 10) == []
        # kept no longer than the season's personal data: the table's TTL at the erasure date
        raw = (
            boto3.resource("dynamodb")
            .Table(rt.table_name)
            .get_item(Key={"pk": f"SMS#{resent['id']}", "sk": "MESSAGE"})
        )
        assert raw["Item"]["expires_epoch"] == int(season.erase_from.timestamp())


def test_a_message_without_a_receipt_yet_goes_behind_the_others(aws: Any) -> None:
    """Alibaba Cloud answers SendStatus 1 (waiting) for a while: that message is asked about again
    later, and newer ones are asked first meanwhile, so slow receipts never starve the run."""
    season, store = config(receipts_per_run=1), DynamoSmsMessageStore(TABLE)
    regs = Registrations({"R2023-000001": [PHONE], "R2023-000002": ["13812340000"]})
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        sms = aliyun(aws, fake.url)
        slow = send_notice(sms, store, season, "R2023-000001", PHONE)
        newer = send_notice(sms, store, season, "R2023-000002", "13812340000", T0 + timedelta(minutes=1))
        fake.sent.pop(slow.message_id)  # the carrier has not answered for it yet
        first = poll(sms, store, season, regs, T0 + timedelta(minutes=15))
        assert (first.asked, first.delivered) == (1, 0)
        assert [r.message_id for r in store.open_messages(season.season, 5)] == [
            newer.message_id,
            slow.message_id,
        ]
        second = poll(sms, store, season, regs, T0 + timedelta(minutes=30))
        assert second.delivered == 1 and store.message(newer.message_id).status == "delivered"  # type: ignore[union-attr]
        fake.sent[slow.message_id] = PHONE  # its receipt arrives
        third = poll(sms, store, season, regs, T0 + timedelta(minutes=45))
    assert third.delivered == 1 and store.message(slow.message_id).status == "delivered"  # type: ignore[union-attr]
    assert store.open_messages(season.season, 5) == []


def test_the_code_route_offers_the_hotline_with_the_staff_fallback_and_records_the_code_sms(
    tmp_path: Any,
) -> None:
    """Through the register function (embedded backend): with `otp_fallback: staff` every code answer
    names the hotline (for any id alike), and the code SMS is recorded without its code."""
    import yaml

    from enrollment.core.clock import SimulatedClock
    from enrollment.local.runtime import EmbeddedSeason
    from tests.integration.conftest import at, post, table_items
    from tests.integration.parent_session import family_call
    from tests.support import mother, valid_body

    raw = load_season("jilin-2023").model_dump(mode="json")
    raw["sms_delivery"] = {
        "otp_fallback": "staff",
        "hotlines": {d["code"]: f"0432-6200100{i}" for i, d in enumerate(raw["districts"])},
    }
    path = tmp_path / "jilin-2023.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    season = load_season(path)
    start = at(season, f"{season.calendar.grade1_registration.start} 10:00")
    with EmbeddedSeason(season, SimulatedClock(start), config_path=str(path)) as rt:
        status, answer = post(rt, valid_body(season, guardians=[mother(season, "17000005678")]))
        assert status == 201, answer
        rid = str(answer["registration_id"])
        status, known, _ = family_call(rt, "POST", f"/api/registrations/{rid}/code", source_ip="198.51.100.7")
        unknown = family_call(
            rt, "POST", "/api/registrations/R-AAAA-BBBB-CCCC-DDDD/code", source_ip="198.51.100.8"
        )
        records = [i for i in table_items(rt) if i.get("type") == "sms-message"]
    assert status == 202 and known == unknown[1]  # the same answer, known id or not
    assert known["message"] == parents.CODE_SENT_ZH + parents.CODE_FALLBACK_ZH
    [record] = records
    assert record["purpose"] == "code" and record["registration_id"] == rid and record["status"] == "sent"
    assert record["phone_masked"] == "170****5678" and record["params"] == {}
    assert "17000005678" not in json.dumps(records, default=str)
