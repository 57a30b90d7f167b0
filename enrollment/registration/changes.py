"""A family edits or withdraws its child's registration while the grade's window is open (issue 19).

While the window is open (as extended, and its gate REGISTRATION_GATE not closed early), a family
signed in with its SMS code may:

- edit: send the whole form again. Every registration rule runs again (`registrar.registration_item`);
  the child's ID type and number and the grade stay as registered (a wrong number or grade is
  corrected by withdrawing and registering again). The new form replaces the old one, the school,
  zone and category follow it (and the live seat warnings with them), `created_at` stays;
- withdraw: the registration is marked withdrawn and counts nowhere: not in the seat warnings, and
  not in any later phase (the store's listings leave it out: verification, the lottery's pools,
  placement, demand at close). The same child may register again in the window (`registrar.register`).

Each change is recorded in the registration's `changes`: when, what kind (edited, withdrawn,
re-registered), by whom, and for an edit the dotted names of the fields that changed, never their
values. A late registration (补录, made by staff after the window) is changed by its district only.
Writes are conditional on the registration as read (`Store.replace_registration`): of two changes
at once, the second is refused (409) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.phases import REGISTRATION_GATE
from enrollment.core.ports import ChildKeyer, Conflict, NotFound, SeasonState, Store
from enrollment.registration.demand import WITHDRAWN
from enrollment.registration.form import (
    RegistrationRefused,
    RegistrationRequest,
    Violation,
    last_day,
    window_open,
)
from enrollment.registration.registrar import change_entry, receipt, registration_item

REASON_MAX = 200
KIND_ZH = {"edited": "修改报名信息", "withdrawn": "撤回报名", "re-registered": "重新报名"}


@dataclass(frozen=True)
class Editable:
    """Whether the family may change the registration now, until which day, and if not, why."""

    editable: bool
    until: date  # the window's last day (as extended)
    why_not_zh: str | None
    why_not_en: str | None
    field: str = "registration_id"


def editable(item: Mapping[str, Any], config: SeasonConfig, now: datetime, state: SeasonState) -> Editable:
    grade = int(item["grade"])
    extended = state.extended_to.get(grade)
    last = last_day(config, grade, extended)  # type: ignore[arg-type]
    closed = REGISTRATION_GATE[grade] in state.advanced_gates
    closed = closed or not window_open(config, grade, now, extended)  # type: ignore[arg-type]
    if item.get("status") == WITHDRAWN:
        zh = "本次报名已撤回" if closed else "本次报名已撤回；报名时间内可重新报名"
        return Editable(False, last, zh, "this registration was withdrawn")
    if item.get("late_registration"):
        zh = "本次报名为区教育局办理的补录报名，如需修改或撤回，请联系所在区教育局"
        return Editable(False, last, zh, "a late registration is changed by its district")
    if item.get("status") != "registered":
        zh, en = (
            "本次报名已进入审核，不能再修改或撤回",
            f"a registration {item.get('status')} cannot be changed",
        )
        return Editable(False, last, zh, en)
    if closed:
        zh = f"{grade}年级网上报名已于{last:%m月%d日}截止，报名信息不能再修改或撤回"
        return Editable(False, last, zh, f"grade {grade} registration is closed", "grade")
    return Editable(True, last, None, None)


def form_view(registration_id: str, *, config: SeasonConfig, now: datetime, store: Store) -> dict[str, Any]:
    """The stored form, to edit, and whether it may be changed now (and until when, or why not)."""
    item = _registration(registration_id, store)
    can = editable(item, config, now, store.season_state(config.season))
    return {
        "registration_id": registration_id,
        "editable": can.editable,
        "editable_until": can.until.isoformat(),
        "why_not": can.why_not_zh,
        "form": _plain(item["request"]),
        "changes": shown_changes(item),
    }


def edit(
    registration_id: str,
    req: RegistrationRequest,
    *,
    config: SeasonConfig,
    now: datetime,
    store: Store,
    keyer: ChildKeyer,
) -> dict[str, Any]:
    """The family's new form in place of the old, every rule checked again; RegistrationRefused
    (nothing stored) if the window is closed, the child's ID or grade changed, or a rule breaks."""
    previous = _registration(registration_id, store)
    _must_be_editable(previous, config, now, store)
    fixed: list[Violation] = []
    if keyer.child_key(req.season, req.child.id_type, req.child.id_number) != previous["child_key"]:
        fixed.append(
            Violation(
                "child.id_number",
                "R-REG-2",
                "儿童身份证号不能修改；如填写有误，请撤回本次报名后重新报名",
                "the child's ID cannot change: withdraw and register again",
            )
        )
    if req.grade != int(previous["grade"]):
        fixed.append(
            Violation(
                "grade",
                "R-REG-2",
                "报名年级不能修改；如需改报，请撤回本次报名后重新报名",
                "the grade cannot change: withdraw and register again",
            )
        )
    if fixed:
        raise RegistrationRefused(fixed, status=422)
    item = registration_item(req, config=config, now=now, store=store, keyer=keyer)
    fields = changed_fields(previous["request"], item["request"])
    if not fields:  # the same form again: nothing to store or record
        return _answer(previous, config)
    history = [*previous.get("changes", []), change_entry(now, config, "edited", fields=fields)]
    record = {**previous, **item, "created_at": previous["created_at"], "changes": history}
    return _replace(record, previous, config, store)


def withdraw(
    registration_id: str,
    reason: str | None,
    *,
    config: SeasonConfig,
    now: datetime,
    store: Store,
) -> dict[str, Any]:
    """The registration withdrawn by its family, with the reason if given; RegistrationRefused
    (nothing stored) outside the window."""
    previous = _registration(registration_id, store)
    _must_be_editable(previous, config, now, store)
    entry = change_entry(now, config, "withdrawn", reason=(reason or "").strip()[:REASON_MAX] or None)
    record = {**previous, "status": WITHDRAWN, "changes": [*previous.get("changes", []), entry]}
    return _replace(record, previous, config, store)


def changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted names of the fields whose values differ (`guardians.0.phone`), sorted."""
    return sorted(_differences(old, new, prefix))


def _differences(old: Any, new: Any, prefix: str) -> Iterator[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from _differences(old.get(key), new.get(key), f"{prefix}{key}.")
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _differences(a, b, f"{prefix}{i}.")
    elif old != new:
        yield prefix.removesuffix(".")


def _plain(value: Any) -> Any:
    """A stored value as JSON has it: the store's numbers (Decimal) as ints."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _registration(registration_id: str, store: Store) -> dict[str, Any]:
    try:
        return store.get_registration(registration_id)
    except NotFound:  # only with a session of that id, so never a registration that never existed
        raise RegistrationRefused(
            [Violation("registration_id", "R-OPEN-1", "未找到该报名编号", "no registration with this id")],
            status=404,
        ) from None


def _must_be_editable(item: Mapping[str, Any], config: SeasonConfig, now: datetime, store: Store) -> None:
    can = editable(item, config, now, store.season_state(config.season))
    if not can.editable:
        raise RegistrationRefused(
            [Violation(can.field, "R-REG-1", str(can.why_not_zh), str(can.why_not_en))], status=409
        )


def _replace(
    record: dict[str, Any], previous: dict[str, Any], config: SeasonConfig, store: Store
) -> dict[str, Any]:
    try:
        store.replace_registration(record, previous=previous)
    except Conflict:
        raise RegistrationRefused(
            [
                Violation(
                    "registration_id",
                    "R-REG-2",
                    "报名信息刚刚已被修改，请刷新页面后重试",
                    "the registration changed meanwhile; reload and try again",
                )
            ],
            status=409,
        ) from None
    return _answer(record, config)


def _answer(item: Mapping[str, Any], config: SeasonConfig) -> dict[str, Any]:
    """The registration's receipt, as on registering, with its history of changes."""
    return {**receipt(dict(item), config), "changes": shown_changes(item)}


def shown_changes(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The registration's changes as recorded, oldest first, each with its kind in Chinese (`kind_zh`)."""
    return [{**c, "kind_zh": KIND_ZH.get(str(c.get("kind")), "")} for c in _plain(item.get("changes", []))]
