"""The draw of LOTTERY.md, version hmac-drbg-sha256-durstenfeld/1: known answers and the worked example."""

from __future__ import annotations

import pytest

from enrollment.lottery import ALGORITHM, HmacDrbg, draw, shuffle, step_drbg, uniform


def test_hmac_drbg_sha256_nist_cavp_no_reseed_count_0() -> None:
    # NIST CAVP HMAC_DRBG.rsp, [SHA-256], PredictionResistance False, no personalization, COUNT = 0:
    # instantiate, generate 1024 bits twice, the second output is ReturnedBits.
    drbg = HmacDrbg(
        bytes.fromhex("ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488"),
        bytes.fromhex("659ba96c601dc69fc902940805ec0ca8"),
    )
    drbg.generate(128)
    assert drbg.generate(128).hex() == (
        "e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89d54fbb978a15b5c443c9ec21036d2460"
        "b6f73ebad0dc2aba6e624abf07745bc107694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde06"
        "68961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8"
    )


IDS = [f"R{i:04d}" for i in range(1, 11)]
EXAMPLE = {
    "season": "2023",
    "school_id": "P-CY-01",
    "grade": 1,
    "pool": IDS,
    "seats": 3,
    "shuffle_inputs": ["0417", "9023", "5561"],
    "draw_inputs": ["3390", "7704", "1286"],
    "chosen_draw": 1,
}


def test_the_worked_example_of_lottery_md() -> None:
    d = draw(**EXAMPLE)  # type: ignore[arg-type]
    assert ALGORITHM == "hmac-drbg-sha256-durstenfeld/1"
    assert d.pool_digest == "19b1370c4a10cc801cf6f7e6076b08b5ba1d521a91561e8483ac3bc98c7f42c8"
    first = step_drbg("2023", "P-CY-01", 1, "shuffle-1", d.pool_digest, "0417").generate(8)
    assert first.hex() == "4113982488fb07a8"
    assert [" ".join(o) for o in d.orders] == [
        "R0008 R0001 R0010 R0009 R0007 R0003 R0004 R0002 R0006 R0005",
        "R0006 R0002 R0005 R0009 R0008 R0001 R0003 R0004 R0010 R0007",
        "R0004 R0001 R0006 R0007 R0005 R0003 R0008 R0002 R0010 R0009",
    ]
    assert [" ".join(o) for o in d.draws] == [
        "R0001 R0004 R0002 R0006 R0003 R0007 R0005 R0010 R0008 R0009",
        "R0005 R0003 R0010 R0004 R0008 R0007 R0006 R0002 R0009 R0001",
        "R0009 R0005 R0006 R0010 R0002 R0007 R0004 R0008 R0003 R0001",
    ]
    assert d.winners == ["R0001", "R0004", "R0002"]
    assert d.waitlist == d.draws[0][3:]


def test_the_pool_order_does_not_matter_only_its_members() -> None:
    assert draw(**{**EXAMPLE, "pool": list(reversed(IDS))}).draws == draw(**EXAMPLE).draws  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chosen_draw": 4}, "chosen_draw"),
        ({"shuffle_inputs": ["1", "2"]}, "three"),
        ({"pool": ["R1", "R1"]}, "twice"),
    ],
)
def test_bad_ceremony_inputs_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        draw(**{**EXAMPLE, **change})  # type: ignore[arg-type]


def test_empty_typed_input_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        step_drbg("2023", "P", 1, "draw-1", "00", "")


def test_uniform_stays_in_range_and_shuffle_is_a_permutation() -> None:
    drbg = HmacDrbg(b"entropy", b"nonce")
    assert all(0 <= uniform(7, drbg) < 7 for _ in range(500))
    assert sorted(shuffle(IDS, drbg)) == IDS
