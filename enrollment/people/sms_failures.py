"""The SMS that did not reach a family, listed to the child's district to phone it (issue 17).

`rows` is what `GET /admin/placement/{season}/districts/{district}/sms-failures` shows: the child
(name masked), the school, the phone to call (in full: the district's own staff, the city and
auditors read it, as they read the registration that holds it), the sends made, the last error in
Chinese (the provider's code only in `error_code`, for the runbook), and whether someone phoned.
`mark_phoned` records who phoned the family and when (the district's own staff only), once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.sms_delivery import (
    CODE,
    NOTICE,
    Registrations,
    SmsFailure,
    SmsMessageStore,
    error_zh,
    phones_of,
)
from enrollment.core.staff import StaffError, StaffMember, require_own_district
from enrollment.people.console import mask_name

PURPOSE_ZH = {NOTICE: "录取通知短信", CODE: "查询验证码短信"}


class NoSuchFailure(StaffError):
    status = 404


class PhonedAlready(StaffError):
    status = 409


def rows(
    config: SeasonConfig, failures: Iterable[SmsFailure], registrations: Registrations
) -> list[dict[str, Any]]:
    """The district's failures, oldest first, each with what the call needs."""
    listed = sorted(failures, key=lambda f: (f.failed_at, f.registration_id))
    regs = registrations.get_registrations(sorted({f.registration_id for f in listed})) if listed else {}
    schools = config.school_index
    out = []
    for f in listed:
        reg = regs.get(f.registration_id, {})
        phones = phones_of(reg)
        child = (reg.get("request") or {}).get("child") or {}
        school = schools.get(f.school_id)
        out.append(
            {
                "registration_id": f.registration_id,
                "purpose": f.purpose,
                "purpose_zh": PURPOSE_ZH.get(f.purpose, "短信"),
                "child": mask_name(str(child.get("name", ""))),
                "school_id": f.school_id,
                "school": school.name if school else "",
                # the number to call: the registration's (gone once the season's data is erased)
                "phone": phones[f.guardian] if f.guardian < len(phones) else f.phone_masked,
                "attempts": f.attempts,
                "error_zh": error_zh(f.error_code),
                "error_code": f.error_code,
                "failed_at": f.failed_at.astimezone(config.tz).isoformat(),
                "phoned": bool(f.phoned_by),
                "phoned_by": f.phoned_by,
                "phoned_at": f.phoned_at.astimezone(config.tz).isoformat() if f.phoned_at else None,
            }
        )
    return out


def mark_phoned(
    staff: StaffMember,
    season: str,
    district: str,
    registration_id: str,
    purpose: str,
    *,
    store: SmsMessageStore,
    now: datetime,
    tz: tzinfo = UTC,
) -> SmsFailure:
    """Record that `staff` phoned the family: the district's own staff only (auditors read, the city
    has the districts call), checked before anything about the failure is told."""
    require_own_district(
        staff,
        district,
        auditor_zh="登记电话联系",
        city=("短信未送达的家庭由所在区教育局电话联系", "forbidden: the district phones its families"),
        others=(f"无权处理{district}的短信未送达名单（仅限本区）", f"forbidden: district {district}'s list"),
    )
    failure = store.failure(season, district, registration_id, purpose)
    if failure is None:
        raise NoSuchFailure("名单中没有这条短信未送达记录", "no such SMS failure in the district's list")
    if failure.phoned_by:
        raise PhonedAlready(
            f"已由{failure.phoned_by}于{failure.phoned_at.astimezone(tz):%Y-%m-%d %H:%M}登记电话联系"
            if failure.phoned_at
            else "已登记电话联系",
            "already marked phoned",
        )
    if not store.mark_phoned(failure, staff.principal, now):
        raise PhonedAlready("已登记电话联系（刚由他人登记）", "already marked phoned")
    stored = store.failure(season, district, registration_id, purpose)
    assert stored is not None
    return stored
