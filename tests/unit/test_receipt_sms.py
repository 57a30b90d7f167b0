"""The registration id by SMS (issue 19): once per phone, capped per phone apart from the codes, none
while the code circuit is open, and a provider's refusal counted, never raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from enrollment.core import sms_caps
from enrollment.core.config import SmsCaps
from enrollment.core.ports import SmsRejected
from enrollment.core.sms_templates import SmsMessage
from enrollment.people import parents
from enrollment.registration import receipt_sms
from tests.memory_sms_caps import MemorySmsCaps
from tests.unit.test_parents import SECRET, MemoryStore, Outbox

NOW = datetime(2023, 5, 20, 2, 0, tzinfo=UTC)
LIMITS = SmsCaps(codes_per_phone_hour=2, codes_per_phone_day=3, codes_per_hour=5)


def item(rid: str, *phones: str, grade: int = 1) -> dict[str, Any]:
    return {"registration_id": rid, "grade": grade, "request": {"guardians": [{"phone": p} for p in phones]}}


def send(
    outbox: Any, store: MemorySmsCaps, reg: dict[str, Any], at: datetime = NOW
) -> receipt_sms.ReceiptSent:
    return receipt_sms.send_receipt(reg, sms=outbox, limits=LIMITS, store=store, secret=SECRET, now=at)


def test_each_distinct_phone_gets_the_id_in_chinese() -> None:
    outbox, store = Outbox(), MemorySmsCaps()
    result = send(
        outbox, store, item("R-AAAA-BBBB-CCCC-DDDD", "13800000001", "13800000002", "13800000001", grade=7)
    )
    assert result == receipt_sms.ReceiptSent(2, (), 0)
    assert [p for p, _ in outbox.sent] == ["13800000001", "13800000002"]
    assert outbox.sent[0][1] == (
        "【义务教育招生】您已完成七年级网上报名，报名编号R-AAAA-BBBB-CCCC-DDDD，请妥善保存。"
        "查询审核和录取进度时，可凭报名编号或儿童身份证号获取短信验证码。"
    )


def test_a_phone_gets_at_most_its_hourly_and_daily_ids_and_keeps_its_codes() -> None:
    outbox, store = Outbox(), MemorySmsCaps()
    results = [send(outbox, store, item(f"R-{i}", "13800000009")) for i in range(3)]
    assert [r.sent for r in results] == [1, 1, 0]
    assert results[2].capped == ((sms_caps.PHONE, "13800000009"),)
    # the day's cap across hours
    later = send(outbox, store, item("R-4", "13800000009"), NOW + timedelta(hours=2))
    last = send(outbox, store, item("R-5", "13800000009"), NOW + timedelta(hours=3))
    assert (later.sent, last.sent) == (1, 0)
    # the codes of the same phone are counted apart: still two this hour
    caps = parents.CodeCaps(LIMITS, store)
    code = parents.request_code(
        "R-0",
        ["13800000009"],
        store=MemoryStore(),
        sms=outbox,
        secret=SECRET,
        caps=caps,
        now=NOW + timedelta(hours=3),
    )
    assert code.sent == 1


def test_nothing_goes_out_while_the_code_circuit_is_open() -> None:
    outbox, store = Outbox(), MemorySmsCaps()
    for _ in range(LIMITS.codes_per_hour):
        assert sms_caps.reserve_global(LIMITS, store=store, now=NOW)
    result = send(outbox, store, item("R-1", "13800000001"))
    assert result == receipt_sms.ReceiptSent(0, ((sms_caps.GLOBAL, "13800000001"),), 0)
    assert outbox.sent == []


class Refusing:
    def send(self, phone: str, message: SmsMessage) -> str:
        raise SmsRejected("isv.MOBILE_NUMBER_ILLEGAL", "wrong number")


def test_a_refused_sms_is_counted_not_raised() -> None:
    assert send(Refusing(), MemorySmsCaps(), item("R-1", "13800000001")) == receipt_sms.ReceiptSent(0, (), 1)
