"""docs/RUNBOOK.md has an entry for every alarm of the synthesized templates (both partitions and the
jilin-2023 app), saying what the operator sees and does; and no alarm entry for an alarm that is gone."""

from __future__ import annotations

import re

import pytest

from enrollment.core.resources import ROOT
from infra.observability import RUNBOOK_PREFIX
from tests.infra.helpers import Template, resources

pytestmark = pytest.mark.xdist_group("infra")

RUNBOOK = ROOT / "docs" / "RUNBOOK.md"


def _entries() -> dict[str, str]:
    """The runbook's `## <anchor>` sections and their text."""
    text = RUNBOOK.read_text(encoding="utf-8")
    parts = re.split(r"^## ([a-z0-9-]+)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _anchors(template: Template) -> dict[str, str]:
    """Each alarm's name and the runbook entry its description names."""
    out = {}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        description = props["AlarmDescription"]
        assert RUNBOOK_PREFIX in description, f"{props['AlarmName']}: no runbook entry named"
        out[props["AlarmName"]] = description.split(RUNBOOK_PREFIX, 1)[1].strip()
    return out


def test_every_alarm_has_a_runbook_entry_saying_what_to_see_and_do(synth, cn, app_synth):
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    entries = _entries()
    named: set[str] = set()
    for template in (synth.raw, cn.raw, app_synth.template()):
        anchors = _anchors(template)
        assert anchors, "no alarms in the template"
        missing = {name: anchor for name, anchor in anchors.items() if anchor not in entries}
        assert missing == {}, f"alarms without an entry in docs/RUNBOOK.md: {missing}"
        named |= set(anchors.values())
    for anchor in named:
        assert "**You see**" in entries[anchor] and "**You do**" in entries[anchor], anchor
    # and every alarm entry (`**Alarm**`) is an alarm that exists; other sections (pauses) may follow
    assert {anchor for anchor, text in entries.items() if "**Alarm**" in text} == named


def test_an_alarm_without_an_entry_is_caught():
    entries = _entries()
    template = {
        "Resources": {
            "A": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {"AlarmName": "x", "AlarmDescription": f"新告警 {RUNBOOK_PREFIX}no-such-entry"},
            }
        }
    }
    assert _anchors(template) == {"x": "no-such-entry"} and "no-such-entry" not in entries
