"""README's deploy section shows the bureau config to copy (issue 17): every example it tags is valid.

A fenced block tagged ```yaml config-example is a part of a season config (`seasons/<name>.yaml`):
merged into the example season's own config it must validate as `SeasonConfig` and hold each value
it shows. A block tagged ```yaml staff-example is a staff directory (`seasons/<name>.staff.yaml`).
So a key renamed or a rule tightened in enrollment/core/config.py or staff.py fails here until the
README says the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from enrollment.core.config import SeasonConfig
from enrollment.core.staff import StaffDirectory

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent>[ ]*)```yaml (?P<tag>[a-z-]+)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S)


def examples(tag: str) -> list[Any]:
    """The README's blocks with this tag, each parsed (a block in a numbered step is indented)."""
    found = []
    for m in FENCE.finditer((ROOT / "README.md").read_text(encoding="utf-8")):
        if m["tag"] == tag:
            indent = len(m["indent"])
            body = "\n".join(line[indent:] for line in m["body"].splitlines())
            found.append(yaml.safe_load(body))
    return found


def merged(base: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def shown_in(expected: Any, actual: Any, where: str = "") -> None:
    """Every value the example shows is what the model holds (no key silently dropped or renamed)."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            shown_in(value, actual[key], f"{where}.{key}")
    else:
        assert actual == expected, where


CONFIG_EXAMPLES = examples("config-example")


def test_the_readme_shows_the_agency_sms_provider_and_caps_examples() -> None:
    shown = [sorted(e) for e in CONFIG_EXAMPLES]
    assert ["verification"] in shown and ["sms"] in shown
    providers = [e["sms_provider"]["provider"] for e in CONFIG_EXAMPLES if "sms_provider" in e]
    assert sorted(providers) == ["aliyun", "sns", "tencent"]
    assert sorted(CONFIG_EXAMPLES[shown.index(["verification"])]["verification"]["agencies"]) == [
        "housing",
        "planning",
        "public-security",
    ]


@pytest.mark.parametrize("example", CONFIG_EXAMPLES, ids=lambda e: ",".join(sorted(e)))
def test_each_config_example_validates_in_the_season_config(example: dict[str, Any]) -> None:
    raw = yaml.safe_load((ROOT / "seasons" / "jilin-2023.yaml").read_text(encoding="utf-8"))
    config = SeasonConfig.model_validate(merged(raw, example)).model_dump(mode="json", by_alias=True)
    shown_in(example, config)


def test_an_invalid_example_would_fail() -> None:
    # the check can fail: a key the model does not know, or a secret that is not an ARN
    raw = yaml.safe_load((ROOT / "seasons" / "jilin-2023.yaml").read_text(encoding="utf-8"))
    for bad in (
        {"sms_provider": {"provider": "aliyun", "signature": "吉林市教育局"}},
        {
            "verification": {
                "agencies": {"housing": {"base_url": "https://x.cn", "credentials_secret_arn": "k"}}
            }
        },
    ):
        with pytest.raises(ValidationError):
            SeasonConfig.model_validate(merged(raw, bad))


def test_the_staff_directory_example_validates() -> None:
    (example,) = examples("staff-example")
    directory = StaffDirectory.from_mapping(example)
    members = list(directory)
    assert [m.role for m in members] == ["community", "community"]
    assert [m.district for m in members] == [None, "CY"]
    assert all(m.principal.startswith("arn:aws-cn:iam::") for m in members)
