"""Every SMS the season sends, as a template and its variables (issue 17).

A provider licensed in China (Alibaba Cloud, Tencent Cloud) sends only templates the bureau has
registered with it, under a registered sign name; so a message is a template id and parameters, and
the provider's adapter maps the id to the code the provider assigned (`sms_provider.template_codes`).
SNS and the local outbox send the rendered text, `【sign】` and the template's body with its variables
filled in. docs/SMS-TEMPLATES.md lists these same templates for the bureau to register
(tests/unit/test_sms_templates.py keeps the two in step).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class SmsTemplate:
    id: str
    purpose: str  # what the bureau tells the provider the template is for
    body: str  # the text without the sign, variables as ${name} (Alibaba Cloud's form)
    variables: tuple[str, ...]  # in order: Tencent Cloud's templates number them {1}, {2}, ...

    def render(self, params: Mapping[str, str]) -> str:
        return string.Template(self.body).substitute(params)

    def tencent_body(self) -> str:
        """The body as Tencent Cloud registers it: variables numbered {1}, {2}, ... in `variables` order."""
        return string.Template(self.body).substitute({v: f"{{{i}}}" for i, v in enumerate(self.variables, 1)})


CODE = SmsTemplate(
    "parent-code",
    "家长查询招生进度的短信验证码",
    "您正在查询报名编号${registration_id}的招生进度，验证码${code}，${minutes}分钟内有效。"
    "请勿告诉他人；如非本人操作，请忽略本短信。",
    ("registration_id", "code", "minutes"),
)
# The admission notice's SMS, longest first: a long school name takes the shorter wording to stay
# within one SMS (enrollment/notices/notice.py, sms_message).
NOTICE = SmsTemplate(
    "notice-admitted",
    "录取结果通知（告知家长到校报到时间和下载入学通知书的方式）",
    "报名编号${registration_id}的新生已被${school}录取。请于${day}${hours}持入学通知书及户籍、房证等原件"
    "到校报到。入学通知书请登录${system}凭报名编号下载。",
    ("registration_id", "school", "day", "hours", "system"),
)
NOTICE_SHORT = SmsTemplate(
    "notice-admitted-short",
    "录取结果通知（学校名称较长时的简短版本）",
    "报名编号${registration_id}的新生已被${school}录取。请于${day}${hours}持入学通知书及户籍、房证等原件"
    "到校报到。通知书请登录${system}下载。",
    ("registration_id", "school", "day", "hours", "system"),
)
NOTICE_SHORTEST = SmsTemplate(
    "notice-admitted-shortest",
    "录取结果通知（学校名称很长时的最短版本）",
    "报名编号${registration_id}已被${school}录取，请于${day}${hours}持通知书及户籍、房证等原件报到。"
    "通知书请在${system}下载。",
    ("registration_id", "school", "day", "hours", "system"),
)
# The registration id once a registration is stored (issue 19): the one key a family needs later,
# on the phone as well as on the screen. It names no code: `tests` and parents tell it from a code SMS.
REGISTERED = SmsTemplate(
    "registration-received",
    "网上报名成功通知（告知家长报名编号）",
    "您已完成${grade}网上报名，报名编号${registration_id}，请妥善保存。"
    "查询审核和录取进度时，可凭报名编号或儿童身份证号获取短信验证码。",
    ("grade", "registration_id"),
)
TEMPLATES: Mapping[str, SmsTemplate] = MappingProxyType(
    {t.id: t for t in (CODE, NOTICE, NOTICE_SHORT, NOTICE_SHORTEST, REGISTERED)}
)
DEFAULT_SIGN = "义务教育招生"  # the code SMS's sign on SNS and in the outbox


@dataclass(frozen=True)
class SmsMessage:
    """One SMS: a template and its parameters. `sign` is what SNS and the outbox put in 【】; a China
    provider sends under the sign name registered with it (`sms_provider.sign_name`) instead."""

    template: str
    params: Mapping[str, str] = field(default_factory=dict)
    sign: str = DEFAULT_SIGN

    def __post_init__(self) -> None:
        template = TEMPLATES.get(self.template)
        if template is None:
            raise ValueError(f"template: no SMS template {self.template!r}")
        if set(self.params) != set(template.variables):
            raise ValueError(
                f"params: template {self.template!r} takes {list(template.variables)}, not {sorted(self.params)}"
            )

    @property
    def text(self) -> str:
        """The whole SMS as SNS and the outbox send it."""
        return f"【{self.sign}】{TEMPLATES[self.template].render(self.params)}"

    def ordered(self) -> list[str]:
        """The parameters in the template's variable order (Tencent Cloud's TemplateParamSet)."""
        return [self.params[v] for v in TEMPLATES[self.template].variables]
