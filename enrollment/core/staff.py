"""Who a staff caller is, and what they may see or sign (R-DATA-2, R-VER-3, R-VER-5).

Staff sign in with OIDC (enrollment/people/access.py): their role and district come from their token's
groups, checked by API Gateway's authorizer. The staff directory (`seasons/{name}.staff.yaml`,
independent of the season config) lists the agencies' IAM identities, which call their own route
signed with SigV4, and the staff users `enroll serve`'s development issuer seeds locally (in AWS
the bureau adds them to the Cognito user pool's groups). The roles:

- `district`: a district bureau's reviewer; reads and signs only cases whose `district` is theirs.
- `city`: the city bureau; reads every district and runs the spot-check (抽查, R-VER-5). It does not
  sign district verification decisions: the spot-checker never checks its own work.
- `auditor`: reads everything, changes nothing.
- `community`: the street/community office's system, which only lists and answers home visits
  (R-VER-2). With a `district` it is that district's offices' system and sees and answers only that
  district's visits; without one it serves the whole city and names the district it lists.

An agency's principal is the IAM role ARN its SigV4 calls arrive as, so it names a partition
(`arn:aws:` in AWS regions, `arn:aws-cn:` in China regions): `check_partition` refuses a directory
whose ARNs are written for another partition than the stack's (synth runs it, infra/stack.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from enrollment.core.config import read_mapping
from enrollment.core.ports import Refused

Role = Literal["district", "city", "auditor", "community"]  # community: the office answering home visits
ROLE_ZH: dict[str, str] = {
    "district": "区教育局",
    "city": "市教育局",
    "auditor": "审计监督",
    "community": "街道社区",
}
STAFF_DIR = Path(__file__).resolve().parents[2] / "seasons"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_IAM_ARN = re.compile(r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::\d{12}:(?:role|user)/[\w+=,.@/-]+")
# How API Gateway names a caller signing with a role's temporary credentials (`userArn`): the
# session of the role, without the role's path. Roles are listed in the directory by their IAM ARN.
_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):sts::(?P<account>\d{12}):assumed-role/(?P<role>[\w+=,.@-]+)/[\w+=,.@-]+"
)
_ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov):iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*(?P<role>[\w+=,.@-]+)"
)


def partition_of(region: str) -> str:
    """The AWS partition of a region name: cn-* → aws-cn, us-gov-* → aws-us-gov, else aws."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class StaffError(Refused):
    """A staff request refused; `status` is the HTTP status, messages are zh-CN and English."""


class Forbidden(StaffError):
    status = 403


class UnknownStaff(Forbidden):
    """The caller is not in the staff directory."""


class StaffDirectoryError(ValueError):
    """A staff directory file that is not valid: names the file, the field and what is wrong."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(
            "staff directory is not valid:\n" + "\n".join(f"{path}: {f}: {m}" for f, m in problems)
        )


class StaffMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # staff: the user name they sign in with (the token's `username`); agencies: their IAM ARN
    principal: str = Field(min_length=1, description="sign-in user name, or an agency's IAM ARN")
    role: Role
    district: str | None = None
    name: str = Field(default="", max_length=50, description="display name (synthetic), for seeded users")

    @model_validator(mode="after")
    def _district_matches_role(self) -> StaffMember:
        if self.role == "district" and not self.district:
            raise ValueError("district staff need a district")
        if self.role not in ("district", "community") and self.district is not None:
            raise ValueError(f"{self.role} staff belong to no district")
        return self


class _DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff: list[StaffMember]


class StaffDirectory:
    """Staff by principal; `lookup` is the only way a request becomes a `StaffMember`."""

    def __init__(self, members: Iterable[StaffMember]) -> None:
        self._by_principal: dict[str, StaffMember] = {}
        self._by_role: dict[tuple[str, str, str], StaffMember] = {}  # (partition, account, role name)
        for m in members:
            if m.principal in self._by_principal:
                raise ValueError(f"principal {m.principal!r} is listed twice")
            self._by_principal[m.principal] = m
            if (role := _ROLE_ARN.fullmatch(m.principal)) is not None:
                key = (role["partition"], role["account"], role["role"])
                if key in self._by_role:  # a role name is unique in an account, whatever its path
                    raise ValueError(f"role {role['role']!r} of account {role['account']} is listed twice")
                self._by_role[key] = m

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str = "(mapping)") -> StaffDirectory:
        """From `{"staff": [{"principal": ..., "role": ..., "district": ...}, ...]}`."""
        try:
            parsed = _DirectoryFile.model_validate(raw)
        except ValidationError as e:
            problems = [
                (".".join(str(p) for p in err["loc"]) or "(top level)", err["msg"]) for err in e.errors()
            ]
            raise StaffDirectoryError(source, problems) from None
        try:
            return cls(parsed.staff)
        except ValueError as e:
            raise StaffDirectoryError(source, [("staff", str(e))]) from None

    @classmethod
    def load(cls, path: str | Path) -> StaffDirectory:
        """Load a YAML or JSON directory; a bare name like `jilin-2023` means seasons/jilin-2023.staff.yaml."""
        raw, shown = read_mapping(
            path,
            folder=STAFF_DIR,
            suffix=".staff.yaml",
            what="with a `staff` list",
            error=StaffDirectoryError,
        )
        return cls.from_mapping(raw, shown)

    def check_partition(self, partition: str, source: str = "(directory)") -> None:
        """Every ARN principal is an IAM role/user ARN in `partition`; else StaffDirectoryError naming it."""
        problems: list[tuple[str, str]] = []
        for i, m in enumerate(self._by_principal.values()):
            if not m.principal.startswith("arn:"):
                continue
            found = _IAM_ARN.fullmatch(m.principal)
            if found is None:
                problems.append(
                    (
                        f"staff.{i}.principal",
                        f"{m.principal!r} is not an IAM ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)",
                    )
                )
            elif found["partition"] != partition:
                fixed = f"arn:{partition}:" + m.principal.split(":", 2)[2]
                problems.append(
                    (
                        f"staff.{i}.principal",
                        f"{m.principal!r} is in partition {found['partition']}, but the stack deploys to "
                        f"{partition}: write {fixed!r}",
                    )
                )
        if problems:
            raise StaffDirectoryError(source, problems)

    def lookup(self, principal: str | None) -> StaffMember:
        """The member a caller is: by the principal as listed, or a role's session (an agency's
        system signing with the role's temporary credentials, `...:sts::ACCOUNT:assumed-role/ROLE/
        SESSION`) as the role listed by its IAM ARN, whatever the session's name."""
        member = self._by_principal.get(principal or "")
        if member is None and (session := _ASSUMED_ROLE.fullmatch(principal or "")) is not None:
            member = self._by_role.get((session["partition"], session["account"], session["role"]))
        if member is None:
            raise UnknownStaff(
                "未授权：不是登记在册的招生工作人员", "forbidden: not a registered staff member"
            )
        return member

    def __iter__(self) -> Iterator[StaffMember]:
        return iter(self._by_principal.values())

    def __len__(self) -> int:
        return len(self._by_principal)

    def __contains__(self, principal: object) -> bool:
        return principal in self._by_principal

    def districts(self) -> set[str]:
        """The districts that have at least one district reviewer."""
        return {m.district for m in self if m.district is not None}


def can_read(staff: StaffMember, district: str) -> bool:
    """R-DATA-2: district staff see only their own district; city and auditors see all."""
    # a community office's district scopes its home visits only: it reads no staff data of it
    return staff.role in ("city", "auditor") or (staff.role == "district" and staff.district == district)


def can_decide(staff: StaffMember, district: str) -> bool:
    """R-VER-3: only a reviewer of the case's own district signs its verification decision."""
    return staff.role == "district" and staff.district == district


def can_spot_check(staff: StaffMember) -> bool:
    """R-VER-5: the city bureau spot-checks the districts."""
    return staff.role == "city"


def require_read(staff: StaffMember, district: str) -> None:
    if not can_read(staff, district):
        raise Forbidden(
            f"无权查看{district}的招生审核信息（仅限本区）", f"forbidden: cases of district {district}"
        )


def require_own_district(
    staff: StaffMember, district: str, *, auditor_zh: str, city: tuple[str, str], others: tuple[str, str]
) -> None:
    """Only a reviewer of `district` itself may act (`can_decide`). The refusals (zh-CN, English) say
    what the act is: auditors only read (`auditor_zh`: "不能…"), the `city` has its own part, and
    everyone else (`others`) is of another district."""
    if can_decide(staff, district):
        return
    if staff.role == "auditor":
        raise Forbidden(f"审计监督人员只能查看，不能{auditor_zh}", "forbidden: auditors read only")
    if staff.role == "city":
        raise Forbidden(*city)
    raise Forbidden(*others)


def require_decide(staff: StaffMember, district: str) -> None:
    require_own_district(
        staff,
        district,
        auditor_zh="审核",
        city=(
            "市教育局负责抽查，审核结论由区教育局签署",
            "forbidden: district bureaus sign verification decisions",
        ),
        others=(f"无权审核{district}的案件（仅限本区）", f"forbidden: cases of district {district}"),
    )


def require_spot_check(staff: StaffMember) -> None:
    if not can_spot_check(staff):
        raise Forbidden("只有市教育局可以抽查", "forbidden: only the city bureau spot-checks")
