"""The draw of LOTTERY.md, version hmac-drbg-sha256-durstenfeld/1: known answers and the worked example."""

from __future__ import annotations

import itertools
import math
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

import pytest

from enrollment.lottery import draw as lottery
from enrollment.lottery.draw import (
    ALGORITHM,
    HmacDrbg,
    apply_swaps,
    draw,
    draw_reference,
    shuffle,
    step_drbg,
    swap_indices,
    uniform,
)


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


# More of NIST CAVP's HMAC_DRBG.rsp (drbgvectors_no_reseed, CAVS 14.3), [SHA-256], PredictionResistance
# False, EntropyInputLen 256, NonceLen 128, ReturnedBitsLen 1024, one group per PersonalizationStringLen x
# AdditionalInputLen in {0, 256}: instantiate, generate 1024 bits with the first AdditionalInput, generate
# 1024 bits with the second, and the second output is ReturnedBits. Copied (not retyped) from Mbed TLS's
# transcription of that file, tests/suites/test_suite_hmac_drbg.no_reseed.data at commit
# 088a1ab0817f15944dde7c7128bc0b4b4430790b of github.com/Mbed-TLS/mbedtls, cases "HMAC_DRBG NIST CAVS
# 14.3 No Reseed (SHA-256,256+128,P,A) #COUNT", where Mbed TLS writes EntropyInput || Nonce as one string.
# The ids below are the group and COUNT; the plain ones also match the COUNT 1-4 that indutny/elliptic's
# test/hmac-drbg-test.js copies from the same .rsp.
CAVP_SHA256_NO_RESEED = [
    pytest.param(
        "79737479ba4e7642a221fcfd1b820b134e9e3540a35bb48ffae29c20f5418ea3",
        "3593259c092bef4129bc2c6c9e19f343",
        "",
        ("", ""),
        "cf5ad5984f9e43917aa9087380dac46e410ddc8a7731859c84e9d0f31bd43655b924159413e2293b17610f211e09f770f172b8fb693a35b85d3b9e5e63b1dc25"
        "2ac0e115002e9bedfb4b5b6fd43f33b8e0eafb2d072e1a6fee1f159df9b51e6c8da737e60d5032dd30544ec51558c6f080bdbdab1de8a939e961e06b5f1aca37",
        id="plain-1",
    ),
    pytest.param(
        "b340907445b97a8b589264de4a17c0bea11bb53ad72f9f33297f05d2879d898d",
        "65cb27735d83c0708f72684ea58f7ee5",
        "",
        ("", ""),
        "75183aaaf3574bc68003352ad655d0e9ce9dd17552723b47fab0e84ef903694a32987eeddbdc48efd24195dbdac8a46ba2d972f5808f23a869e71343140361f5"
        "8b243e62722088fe10a98e43372d252b144e00c89c215a76a121734bdc485486f65c0b16b8963524a3a70e6f38f169c12f6cbdd169dd48fe4421a235847a23ff",
        id="plain-2",
    ),
    pytest.param(
        "8e159f60060a7d6a7e6fe7c9f769c30b98acb1240b25e7ee33f1da834c0858e7",
        "c39d35052201bdcce4e127a04f04d644",
        "",
        ("", ""),
        "62910a77213967ea93d6457e255af51fc79d49629af2fccd81840cdfbb4910991f50a477cbd29edd8a47c4fec9d141f50dfde7c4d8fcab473eff3cc2ee9e7cc9"
        "0871f180777a97841597b0dd7e779eff9784b9cc33689fd7d48c0dcd341515ac8fecf5c55a6327aea8d58f97220b7462373e84e3b7417a57e80ce946d6120db5",
        id="plain-3",
    ),
    pytest.param(
        "74755f196305f7fb6689b2fe6835dc1d81484fc481a6b8087f649a1952f4df6a",
        "c36387a544a5f2b78007651a7b74b749",
        "",
        ("", ""),
        "b2896f3af4375dab67e8062d82c1a005ef4ed119d13a9f18371b1b873774418684805fd659bfd69964f83a5cfe08667ddad672cafd16befffa9faed49865214f"
        "703951b443e6dca22edb636f3308380144b9333de4bcb0735710e4d9266786342fc53babe7bdbe3c01a3addb7f23c63ce2834729fabbd419b47beceb4a460236",
        id="plain-4",
    ),
    pytest.param(
        "d3cc4d1acf3dde0c4bd2290d262337042dc632948223d3a2eaab87da44295fbd",
        "0109b0e729f457328aa18569a9224921",
        "",
        (
            "3c311848183c9a212a26f27f8c6647e40375e466a0857cc39c4e47575d53f1f6",
            "fcb9abd19ccfbccef88c9c39bfb3dd7b1c12266c9808992e305bc3cff566e4e4",
        ),
        "9c7b758b212cd0fcecd5daa489821712e3cdea4467b560ef5ddc24ab47749a1f1ffdbbb118f4e62fcfca3371b8fbfc5b0646b83e06bfbbab5fac30ea09ea2bc7"
        "6f1ea568c9be0444b2cc90517b20ca825f2d0eccd88e7175538b85d90ab390183ca6395535d34473af6b5a5b88f5a59ee7561573337ea819da0dcc3573a22974",
        id="additional-0",
    ),
    pytest.param(
        "f97a3cfd91faa046b9e61b9493d436c4931f604b22f1081521b3419151e8ff06",
        "11f3a7d43595357d58120bd1e2dd8aed",
        "",
        (
            "517289afe444a0fe5ed1a41dbbb5eb17150079bdd31e29cf2ff30034d8268e3b",
            "88028d29ef80b4e6f0fe12f91d7449fe75062682e89c571440c0c9b52c42a6e0",
        ),
        "c6871cff0824fe55ea7689a52229886730450e5d362da5bf590dcf9acd67fed4cb32107df5d03969a66b1f6494fdf5d63d5b4d0d34ea7399a07d0116126d0d51"
        "8c7c55ba46e12f62efc8fe28a51c9d428e6d371d7397ab319fc73ded4722e5b4f30004032a6128df5e7497ecf82ca7b0a50e867ef6728a4f509a8c859087039c",
        id="additional-1",
    ),
    pytest.param(
        "0f2f23d64f481cabec7abb01db3aabf125c3173a044b9bf26844300b69dcac8b",
        "9a5ae13232b43aa19cfe8d7958b4b590",
        "",
        (
            "ec4c7a62acab73385f567da10e892ff395a0929f959231a5628188ce0c26e818",
            "6b97b8c6b6bb8935e676c410c17caa8042aa3145f856d0a32b641e4ae5298648",
        ),
        "7480a361058bd9afa3db82c9d7586e42269102013f6ec5c269b6d05f17987847748684766b44918fd4b65e1648622fc0e0954178b0279dfc9fa99b66c6f53e51"
        "c4860131e9e0644287a4afe4ca8e480417e070db68008a97c3397e4b320b5d1a1d7e1d18a95cfedd7d1e74997052bf649d132deb9ec53aae7dafdab55e6dae93",
        id="additional-2",
    ),
    pytest.param(
        "5cacc68165a2e2ee20812f35ec73a79dbf30fd475476ac0c44fc6174cdac2b55",
        "6f885496c1e63af620becd9e71ecb824",
        "e72dd8590d4ed5295515c35ed6199e9d211b8f069b3058caa6670b96ef1208d0",
        ("", ""),
        "f1012cf543f94533df27fedfbf58e5b79a3dc517a9c402bdbfc9a0c0f721f9d53faf4aafdc4b8f7a1b580fcaa52338d4bd95f58966a243cdcd3f446ed4bc546d"
        "9f607b190dd69954450d16cd0e2d6437067d8b44d19a6af7a7cfa8794e5fbd728e8fb2f2e8db5dd4ff1aa275f35886098e80ff844886060da8b1e7137846b23b",
        id="personalization-0",
    ),
    pytest.param(
        "8df013b4d103523073917ddf6a869793059e9943fc8654549e7ab22f7c29f122",
        "da2625af2ddd4abcce3cf4fa4659d84e",
        "b571e66d7c338bc07b76ad3757bb2f9452bf7e07437ae8581ce7bc7c3ac651a9",
        ("", ""),
        "b91cba4cc84fa25df8610b81b641402768a2097234932e37d590b1154cbd23f97452e310e291c45146147f0da2d81761fe90fba64f94419c0f662b28c1ed94da"
        "487bb7e73eec798fbcf981b791d1be4f177a8907aa3c401643a5b62b87b89d66b3a60e40d4a8e4e9d82af6d2700e6f535cdb51f75c321729103741030ccc3a56",
        id="personalization-1",
    ),
    pytest.param(
        "565b2b77937ba46536b0f693b3d5e4a8a24563f9ef1f676e8b5b2ef17823832f",
        "4ef3064ec29f5b7f9686d75a23d170e3",
        "3b722433226c9dba745087270ab3af2c909425ba6d39f5ce46f07256068319d9",
        ("", ""),
        "d144ee7f8363d128872f82c15663fe658413cd42651098e0a7c51a970de75287ec943f9061e902280a5a9e183a7817a44222d198fbfab184881431b4adf35d3d"
        "1019da5a90b3696b2349c8fba15a56d0f9d010a88e3f9eeedb67a69bcaa71281b41afa11af576b765e66858f0eb2e4ec4081609ec81da81df0a0eb06787340ea",
        id="personalization-2",
    ),
    pytest.param(
        "5d3286bc53a258a53ba781e2c4dcd79a790e43bbe0e89fb3eed39086be34174b",
        "c5422294b7318952ace7055ab7570abf",
        "2dba094d008e150d51c4135bb2f03dcde9cbf3468a12908a1b025c120c985b9d",
        (
            "793a7ef8f6f0482beac542bb785c10f8b7b406a4de92667ab168ecc2cf7573c6",
            "2238cdb4e23d629fe0c2a83dd8d5144ce1a6229ef41dabe2a99ff722e510b530",
        ),
        "d04678198ae7e1aeb435b45291458ffde0891560748b43330eaf866b5a6385e74c6fa5a5a44bdb284d436e98d244018d6acedcdfa2e9f499d8089e4db86ae89a"
        "6ab2d19cb705e2f048f97fb597f04106a1fa6a1416ad3d859118e079a0c319eb95686f4cbcce3b5101c7a0b010ef029c4ef6d06cdfac97efb9773891688c37cf",
        id="personalization+additional-0",
    ),
    pytest.param(
        "c2a566a9a1817b15c5c3b778177ac87c24e797be0a845f11c2fe399dd37732f2",
        "cb1894eb2b97b3c56e628329516f86ec",
        "13ce4d8dd2db9796f94156c8e8f0769b0aa1c82c1323b61536603bca37c9ee29",
        (
            "413dd83fe56835abd478cb9693d67635901c40239a266462d3133b83e49c820b",
            "d5c4a71f9d6d95a1bedf0bd2247c277d1f84a4e57a4a8825b82a2d097de63ef1",
        ),
        "b3a3698d777699a0dd9fa3f0a9fa57832d3cefac5df24437c6d73a0fe41040f1729038aef1e926352ea59de120bfb7b073183a34106efed6278ff8ad844ba044"
        "8115dfddf3319a82de6bb11d80bd871a9acd35c73645e1270fb9fe4fa88ec0e465409ea0cba809fe2f45e04943a2e396bbb7dd2f4e0795303524cc9cc5ea54a1",
        id="personalization+additional-1",
    ),
]


@pytest.mark.parametrize(
    ("entropy", "nonce", "personalization", "additional", "returned"), CAVP_SHA256_NO_RESEED
)
def test_hmac_drbg_sha256_nist_cavp_no_reseed(
    entropy: str, nonce: str, personalization: str, additional: tuple[str, str], returned: str
) -> None:
    drbg = HmacDrbg(bytes.fromhex(entropy), bytes.fromhex(nonce), bytes.fromhex(personalization))
    drbg.generate(128, bytes.fromhex(additional[0]))
    assert drbg.generate(128, bytes.fromhex(additional[1])).hex() == returned


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


# The fast path `draw` uses, against the straightforward reference


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 257, 1000])
def test_swap_indices_are_what_the_reference_shuffle_draws(n: int) -> None:
    items = [f"x{i}" for i in range(n)]
    for entropy, nonce in [(b"0417", b"2023|P-CY-01|1|shuffle-1|00"), (b"\xe6\xb4\xbe", b"")]:
        js = swap_indices(entropy, nonce, n)
        assert len(js) == max(n - 1, 0)
        assert apply_swaps(items, js) == shuffle(items, HmacDrbg(entropy, nonce))


class CountingDrbg(HmacDrbg):
    calls = 0

    def generate(self, n: int, additional: bytes = b"") -> bytes:
        self.calls += 1
        return super().generate(n, additional)


@pytest.mark.parametrize(
    ("n", "rejected"),
    [
        (2**63 + 40, True),  # 2**64 % m = 2**64 - m: about half of the draws are rejected
        (3 * 2**62 + 40, True),  # about a quarter
        (2**64 - 1, False),  # a few at most, but the shortcut (x < 2**64 - n) never applies
    ],
)
def test_swap_indices_reject_the_biased_tail_like_uniform(n: int, rejected: bool) -> None:
    # pools are never this large, but for such n the fast path's rejection branch runs
    reference = CountingDrbg(b"tail", b"nonce")
    expected = [uniform(i + 1, reference) for i in range(n - 1, n - 41, -1)]
    assert (reference.calls > 40) == rejected
    assert swap_indices(b"tail", b"nonce", n, count=40) == expected


def test_apply_swaps_refuses_the_wrong_number_of_indices() -> None:
    with pytest.raises(ValueError, match="swap indices"):
        apply_swaps(["a", "b", "c"], [0])


POOLS = {
    "empty": [],
    "one": ["R0001"],
    "two": ["R0002", "R0001"],
    "ten": IDS,
    "997": [f"R-{i:06d}" for i in range(997, 0, -1)],
    "unicode": ["张三-01", "Zoë", "R0001", "ñandú", "😀-7", "R0001\u0301", "ÅNGSTRÖM", "a b", "Ω"],
}


@pytest.mark.parametrize("pool", POOLS.values(), ids=POOLS.keys())
@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "two-processes"])
def test_the_fast_draw_equals_the_reference(pool: list[str], parallel: bool) -> None:
    for k, (shuffles, draws) in enumerate(
        [(["0417", "9023", "5561"], ["3390", "7704", "1286"]), (["一", "二", "三"], ["x", "0417", " 7 "])]
    ):
        args = ("2023", "P-CY-01", 1 + 6 * k, pool, 3, shuffles, draws, 1 + k)
        assert draw(*args, parallel=parallel) == draw_reference(*args)


def test_large_pools_use_a_second_process_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []
    start = lottery._start_worker

    def counting_start() -> lottery._Worker | None:
        worker = start()
        started.append(worker is not None)
        return worker

    monkeypatch.setattr(lottery, "_start_worker", counting_start)
    monkeypatch.setattr(lottery, "_usable_cpus", lambda: 2)
    args = ("2023", "P-CY-01", 7, POOLS["997"], 40, ["a", "b", "c"], ["d", "e", "f"], 3)
    expected = draw(*args, parallel=False)
    assert started == []  # parallel=False: never
    assert draw(*args) == expected and started == []  # smaller than PARALLEL_MIN_POOL
    monkeypatch.setattr(lottery, "PARALLEL_MIN_POOL", 997)
    assert draw(*args) == expected and started == [True]
    monkeypatch.setattr(lottery, "_usable_cpus", lambda: 1)
    assert draw(*args) == expected and started == [True]  # one CPU: no second process


def test_when_the_second_process_fails_the_draw_is_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("2023", "P-CY-01", 1, POOLS["997"], 5, ["0417", "9023", "5561"], ["3390", "7704", "1286"], 2)
    expected = draw_reference(*args)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, reads nothing, exits 1
    assert draw(*args, parallel=True) == expected
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # does not start
    assert draw(*args, parallel=True) == expected


T = TypeVar("T")

# Distribution: deterministic inputs, so these cannot flake; the critical values are chi-square's
# upper 0.1% points (df = 23: 49.73, df = 9: 27.88).


def chi_square(observed: Counter[T], categories: Sequence[T], runs: int) -> float:
    expected = runs / len(categories)
    return sum((observed[c] - expected) ** 2 / expected for c in categories)


def test_every_ranking_of_four_children_is_about_equally_likely() -> None:
    pool = ["R0001", "R0002", "R0003", "R0004"]
    permutations = list(itertools.permutations(pool))
    runs = 24 * 400
    seen: Counter[tuple[str, ...]] = Counter()
    for i in range(runs):
        typed = [f"{i}", f"{i}", f"{i}"]
        seen[tuple(draw("2023", "P-CY-01", 1, pool, 1, typed, typed, 1 + i % 3).ranking)] += 1
    assert set(seen) == set(permutations)
    assert chi_square(seen, permutations, runs) < 49.73
    # and each child wins (comes first) about a quarter of the time
    firsts: Counter[str] = Counter()
    for ranking, count in seen.items():
        firsts[ranking[0]] += count
    assert all(math.isclose(firsts[c], runs / 4, rel_tol=0.06) for c in pool)


def test_uniform_is_uniform_for_a_range_that_is_not_a_power_of_two() -> None:
    drbg = HmacDrbg(b"uniform", b"2023|P-CY-01|1|draw-1|chi-square")
    runs, n = 20_000, 10
    seen = Counter(uniform(n, drbg) for _ in range(runs))
    assert chi_square(seen, list(range(n)), runs) < 27.88
