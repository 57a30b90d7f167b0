"""An agency's system calls as an IAM role's session: API Gateway names it by the session
(`arn:...:sts::ACCOUNT:assumed-role/ROLE/SESSION`), the directory lists the role's IAM ARN."""

from __future__ import annotations

import pytest

from enrollment.core.staff import StaffDirectory, StaffDirectoryError, UnknownStaff

DIRECTORY = StaffDirectory.from_mapping(
    {
        "staff": [
            {"principal": "arn:aws-cn:iam::123456789012:role/community-visits", "role": "community"},
            {
                "principal": "arn:aws-cn:iam::123456789012:role/agencies/community-visits-cy",
                "role": "community",
                "district": "CY",
            },
            {"principal": "arn:aws-cn:iam::123456789012:user/visits-clerk", "role": "community"},
        ]
    }
)


@pytest.mark.parametrize(
    ("caller", "district"),
    [
        ("arn:aws-cn:iam::123456789012:role/community-visits", None),
        ("arn:aws-cn:sts::123456789012:assumed-role/community-visits/1733450000-worker-3", None),
        ("arn:aws-cn:sts::123456789012:assumed-role/community-visits-cy/any-session", "CY"),  # role path
        ("arn:aws-cn:iam::123456789012:user/visits-clerk", None),
    ],
)
def test_a_role_is_known_by_its_arn_or_any_of_its_sessions(caller: str, district: str | None) -> None:
    member = DIRECTORY.lookup(caller)
    assert member.role == "community"
    assert member.district == district


@pytest.mark.parametrize(
    "caller",
    [
        "arn:aws-cn:sts::999999999999:assumed-role/community-visits/s",  # another account
        "arn:aws:sts::123456789012:assumed-role/community-visits/s",  # another partition
        "arn:aws-cn:sts::123456789012:assumed-role/community/s",  # another role
        "arn:aws-cn:sts::123456789012:assumed-role/visits-clerk/s",  # a user is not a role
        "arn:aws-cn:sts::123456789012:federated-user/community-visits",
        "",
        None,
    ],
)
def test_anyone_else_is_unknown(caller: str | None) -> None:
    with pytest.raises(UnknownStaff):
        DIRECTORY.lookup(caller)


def test_a_role_name_listed_twice_under_two_paths_is_refused() -> None:
    with pytest.raises(StaffDirectoryError, match="listed twice"):
        StaffDirectory.from_mapping(
            {
                "staff": [
                    {"principal": "arn:aws:iam::123456789012:role/a/visits", "role": "community"},
                    {"principal": "arn:aws:iam::123456789012:role/b/visits", "role": "community"},
                ]
            }
        )
