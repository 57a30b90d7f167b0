"""SMS delivery's rules (issue 17), pure: the `sms_delivery` settings refuse what cannot work and name
the field; a failed notice is sent again on a doubling schedule until its sends are done, a wrong
number never; what goes to a district's list; how the district's staff read a failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from enrollment.core import sms_delivery
from enrollment.core.config import SeasonConfig, SmsDelivery, load_season
from enrollment.core.sms_templates import CODE, NOTICE

AT = datetime(2026, 7, 6, 10, 0, tzinfo=UTC)


def season(**delivery: Any) -> SeasonConfig:
    raw = load_season("jilin-2023").model_dump(mode="json")
    raw["sms_delivery"] = delivery
    return SeasonConfig.model_validate(raw)


def record(
    purpose: sms_delivery.Purpose = "notice", attempt: int = 1, error: str = "MK:0001"
) -> sms_delivery.SmsRecord:
    return sms_delivery.SmsRecord(
        message_id="m-1",
        season="2023",
        purpose=purpose,
        template=(NOTICE if purpose == "notice" else CODE).id,
        phone_masked="138****5678",
        guardian=0,
        sent_at=AT,
        registration_id="R2023-000042",
        district="CY",
        attempt=attempt,
        status="failed",
        error_code=error,
        status_at=AT,
    )


@pytest.mark.parametrize(
    ("delivery", "field"),
    [
        ({"otp_fallback": "voice"}, "otp_fallback"),
        ({"otp_fallback": "staff"}, "hotlines"),
        ({"hotlines": {"CY": "call us"}}, "hotlines.CY"),
        ({"notice_attempts": 0}, "notice_attempts"),
        ({"retry_after_minutes": 1}, "retry_after_minutes"),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_field(delivery: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
        SmsDelivery.model_validate(delivery)


def test_hotlines_name_known_districts_and_staff_needs_every_one() -> None:
    with pytest.raises(ValidationError, match=r"sms_delivery\.hotlines\.XX: unknown district"):
        season(hotlines={"XX": "0432-62001001"})
    with pytest.raises(ValidationError, match=r"otp_fallback staff needs a hotline for"):
        season(otp_fallback="staff", hotlines={"CY": "0432-62001001"})
    codes = [d.code for d in load_season("jilin-2023").districts]
    assert (
        season(otp_fallback="staff", hotlines=dict.fromkeys(codes, "0432-62001001")).sms_delivery.otp_fallback
        == "staff"
    )


def test_the_defaults_send_a_notice_three_times_and_offer_no_fallback() -> None:
    d = SmsDelivery()
    assert (d.notice_attempts, d.retry_after_minutes, d.otp_fallback) == (3, 30, "none")


def test_a_failed_notice_is_sent_again_on_a_doubling_schedule_until_its_sends_are_done() -> None:
    d = SmsDelivery(notice_attempts=4, retry_after_minutes=20)
    assert sms_delivery.retry_due(record(attempt=1), d, AT) == AT + timedelta(minutes=20)
    assert sms_delivery.retry_due(record(attempt=2), d, AT) == AT + timedelta(minutes=40)
    assert sms_delivery.retry_due(record(attempt=3), d, AT) == AT + timedelta(minutes=80)
    assert sms_delivery.retry_due(record(attempt=4), d, AT) is None


def test_a_wrong_number_a_refused_template_and_a_code_are_never_sent_again() -> None:
    d = SmsDelivery()
    assert sms_delivery.retry_due(record(error="isv.MOBILE_NUMBER_ILLEGAL"), d, AT) is None
    assert (
        sms_delivery.retry_due(record(error="FailedOperation.TemplateIncorrectOrUnapproved"), d, AT) is None
    )
    assert sms_delivery.retry_due(record("code"), d, AT) is None


def test_what_goes_to_a_districts_list() -> None:
    assert sms_delivery.listed(record("notice"), SmsDelivery())
    assert not sms_delivery.listed(record("code"), SmsDelivery())
    assert sms_delivery.listed(
        record("code"), SmsDelivery(otp_fallback="staff", hotlines={"CY": "0432-62001001"})
    )
    nobody = sms_delivery.SmsRecord(**{**record().__dict__, "registration_id": ""})
    assert not sms_delivery.listed(nobody, SmsDelivery())  # nothing to phone about


def test_staff_read_a_failure_in_chinese_without_the_providers_code() -> None:
    assert sms_delivery.error_zh("isv.MOBILE_NUMBER_ILLEGAL") == sms_delivery.ERROR_ZH_WRONG_NUMBER
    assert (
        sms_delivery.error_zh("InvalidParameterValue.IncorrectPhoneNumber")
        == sms_delivery.ERROR_ZH_WRONG_NUMBER
    )
    assert sms_delivery.error_zh("isv.SMS_TEMPLATE_ILLEGAL") == sms_delivery.ERROR_ZH_TEMPLATE
    for code in ("MK:0001", "用户关机", ""):
        text = sms_delivery.error_zh(code)
        assert text == sms_delivery.ERROR_ZH_UNDELIVERED and not any(
            c.isascii() and c.isalnum() for c in text
        )
