"""Registering a child: rules, one registration per child, what gets stored (R-REG-*, R-DATA-*)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.idcard import mask
from enrollment.core.phases import REGISTRATION_GATE
from enrollment.core.ports import ChildKeyer, Conflict, DuplicateChild, NotFound, Store
from enrollment.registration.demand import WITHDRAWN
from enrollment.registration.form import (
    CATEGORY_ZH,
    RegistrationRefused,
    RegistrationRequest,
    Violation,
    check_registration,
)

STATUS_ZH = {"registered": "已报名，待审核", WITHDRAWN: "已撤回报名"}
GUARDIAN = "guardian"  # who made a change a family made (`changes`' `by`)


def registration_id(child_key: str) -> str:
    """The registration id, derived from the child key (80 bits): one per child and season, whatever the
    grade or category, and unguessable without the KMS key. Shown as `R-XXXX-XXXX-XXXX-XXXX`."""
    digest = hashlib.sha256(f"registration-id|{child_key}".encode()).digest()
    code = base64.b32encode(digest).decode()[:16]
    return "R-" + "-".join(code[i : i + 4] for i in range(0, 16, 4))


def targets(req: RegistrationRequest, config: SeasonConfig) -> tuple[str | None, str | None]:
    """(zone id, the school this registration asks for) for demand and later phases."""
    if req.category in ("private", "specialised"):
        return None, req.private_school_id
    if req.category == "ethnic":
        ethnic = [s for s in config.schools if s.kind == "ethnic" and s.plan(req.grade) > 0]
        near = min(ethnic, key=lambda s: s.district != req.home_address.district, default=None)
        return None, near.id if near else None
    zone = config.zone_of(req.grade, req.home_address.place)
    if zone is None:
        return None, None
    if not zone.multi_school:
        return zone.id, zone.schools[0]
    return zone.id, req.school_preferences[0] if req.school_preferences else None


def register(
    req: RegistrationRequest,
    *,
    config: SeasonConfig,
    now: datetime,
    store: Store,
    keyer: ChildKeyer,
) -> dict[str, Any]:
    """Check the season rules and store one registration; RegistrationRefused (nothing stored) if any
    breaks. A child whose family withdrew its registration (enrollment/registration/changes.py) may
    register again while the window is open: the new registration takes the withdrawn one's place
    under the same id, keeping its history of changes with this one added (`re-registered`)."""
    item = registration_item(req, config=config, now=now, store=store, keyer=keyer)
    try:
        store.create_registration(item)
    except DuplicateChild as e:
        stored = over_withdrawn(item, config=config, now=now, store=store)
        if stored is None:
            raise duplicate() from e
        item = stored
    return receipt(item, config)


def over_withdrawn(
    item: dict[str, Any], *, config: SeasonConfig, now: datetime, store: Store, by: str = GUARDIAN
) -> dict[str, Any] | None:
    """Store `item` in the place of the same child's withdrawn registration (its id is the child's):
    the history of changes kept, `re-registered` added (`by`: the family, or the staff member of a
    late registration). None, and nothing written, if the stored registration is not withdrawn or
    another write came first."""
    previous = store.get_registration(item["registration_id"])
    if previous.get("status") != WITHDRAWN:
        return None
    history = [*previous.get("changes", []), change_entry(now, config, "re-registered", by=by)]
    item = {**item, "changes": history}
    try:
        store.replace_registration(item, previous=previous)
    except Conflict:
        return None
    return {**item, "version": int(previous.get("version", 0)) + 1}


def change_entry(now: datetime, config: SeasonConfig, kind: str, **extra: Any) -> dict[str, Any]:
    """One entry of a registration's `changes`: when, what kind, by whom (the family), and `extra`
    (the fields an edit changed, a withdrawal's reason). Never a value, so never an ID number."""
    return {"at": now.astimezone(config.tz).isoformat(), "kind": kind, "by": GUARDIAN, **extra}


def duplicate() -> RegistrationRefused:
    return RegistrationRefused(
        [
            Violation(
                "child.id_number",
                "R-REG-2",
                "该儿童本年度已报名，每名儿童只能报名一个类别（公民同招，不可兼报）",
                "this child is already registered this season (one category only)",
            )
        ],
        status=409,
    )


def registration_item(
    req: RegistrationRequest,
    *,
    config: SeasonConfig,
    now: datetime,
    store: Store,
    keyer: ChildKeyer,
    late: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The registration to store, once every season rule holds; RegistrationRefused naming each one
    that breaks. `late`: a late registration (补录) made by staff after the window, the window's
    refusal (R-REG-1) recorded in the item as this exception (who, when, why) instead."""
    state = store.season_state(config.season)
    violations = check_registration(req, config, now, state.extended_to.get(req.grade))
    if REGISTRATION_GATE[req.grade] in state.advanced_gates and not any(
        v.rule == "R-REG-1" for v in violations
    ):
        violations.insert(
            0,
            Violation(
                "grade",
                "R-REG-1",
                f"{req.grade}年级网上报名已截止",
                f"grade {req.grade} registration is closed",
            ),
        )
    if late is not None:
        window = [v for v in violations if v.rule == "R-REG-1"]
        violations = [v for v in violations if v.rule != "R-REG-1"]
        late = {**late, "window_refusal": [v.message_en for v in window]}
    if violations:
        raise RegistrationRefused(violations)
    child_key = keyer.child_key(req.season, req.child.id_type, req.child.id_number)
    rid = registration_id(child_key)
    zone_id, target = targets(req, config)
    item: dict[str, Any] = {
        "registration_id": rid,
        "season": req.season,
        "grade": req.grade,
        "category": req.category,
        "district": req.home_address.district,
        "zone_id": zone_id,
        "target_school": target,
        "special_claims": list(req.special_claims),
        "status": "registered",
        "created_at": now.astimezone(config.tz).isoformat(),
        "child_key": child_key,
        "masked_id": mask(req.child.id_number),
        "request": req.model_dump(mode="json"),
    }
    if late is not None:
        item["late_registration"] = dict(late)
    return item


def receipt(item: dict[str, Any], config: SeasonConfig) -> dict[str, Any]:
    """What a parent sees of a registration: masked, no contact data."""
    req = item["request"]
    target = item.get("target_school")
    school = config.school_index.get(target) if target else None
    name = str(req["child"]["name"])
    return {
        "registration_id": item["registration_id"],
        "season": item["season"],
        "grade": int(item["grade"]),
        "category": item["category"],
        "category_zh": CATEGORY_ZH[item["category"]],
        "status": item["status"],
        "status_zh": STATUS_ZH.get(item["status"], item["status"]),
        "created_at": item["created_at"],
        "child": {"name": name[0] + "*" * (len(name) - 1), "id_number": mask(str(item["masked_id"]))},
        "school": {"id": school.id, "name": school.name} if school else None,
        "zone_id": item.get("zone_id"),
    }


def status(registration_id: str, *, config: SeasonConfig, store: Store) -> dict[str, Any]:
    try:
        return receipt(store.get_registration(registration_id), config)
    except NotFound:
        raise RegistrationRefused(
            [Violation("registration_id", "R-OPEN-1", "未找到该报名编号", "no registration with this id")],
            status=404,
        ) from None
