"""The per-sub-environment counter-based RNG: distribution, independence, exactness."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from social_dilemmas.core.rng import RNG, hash32, sample_categorical
from social_dilemmas.testing import SubEnvRNG
from social_dilemmas.testing.reference import py_hash32

N = 1 << 16


def rng_from(seeds, counter: int = 0) -> RNG:
    r = RNG.from_seeds(torch.as_tensor(seeds, dtype=torch.int64))
    return RNG(r.key, r.counter + counter)


def test_uniform_has_the_right_shape_dtype_and_range():
    r = rng_from(range(8))
    assert r.uniform(0).shape == (8,) and r.uniform(0).dtype == torch.float32
    u = r.uniform(3, 4, 5)
    assert u.shape == (8, 4, 5) and u.dtype == torch.float32
    b = r.bits(3, 4, 5)
    assert b.dtype == torch.int64 and int(b.min()) >= 0 and int(b.max()) < 2**32
    big = rng_from(range(N)).uniform(0)
    assert float(big.min()) >= 0.0 and float(big.max()) < 1.0


@pytest.mark.parametrize("draw", ["across seeds", "across counters", "across positions"])
def test_uniform_is_uniform(draw):
    # 65536 draws into 64 bins: each count is Binomial(N, 1/64), sd ~ 31.7. The chi-square
    # statistic has 63 degrees of freedom (mean 63, sd ~ 11.2); 130 is a ~6 sd bound.
    if draw == "across seeds":
        u = rng_from(range(N)).uniform(0)
    elif draw == "across counters":
        u = torch.cat([rng_from([7], c).uniform(5, 256).view(-1) for c in range(N // 256)])
    else:
        u = rng_from([123]).uniform(2, N).view(-1)
    assert u.numel() == N
    counts = torch.bincount((u * 64).long(), minlength=64).double()
    chi2 = float(((counts - N / 64) ** 2 / (N / 64)).sum())
    assert chi2 < 130, chi2
    assert abs(float(u.double().mean()) - 0.5) < 6 * math.sqrt(1 / 12 / N)
    assert abs(float(u.double().var()) - 1 / 12) < 0.005


def _corr(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().view(-1), b.double().view(-1)
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


def test_streams_counters_and_neighbouring_seeds_are_independent():
    # For independent uniforms the sample correlation of N pairs has sd 1/sqrt(N) ~ 0.004.
    bound = 6 / math.sqrt(N)
    r = rng_from(range(N))
    assert abs(_corr(r.uniform(0), r.uniform(1))) < bound  # two streams
    assert abs(_corr(r.uniform(0), r.advance().uniform(0))) < bound  # consecutive steps
    assert abs(_corr(r.uniform(0)[:-1], r.uniform(0)[1:])) < bound  # seeds s and s + 1
    assert abs(_corr(r.uniform(0), rng_from(range(N, 2 * N)).uniform(0))) < bound
    idx = r.uniform(4, 2)
    assert abs(_corr(idx[:, 0], idx[:, 1])) < bound  # neighbouring entries of one draw
    # Bits of one stream are not shared with the next stream or the next step.
    assert float((r.bits(0) == r.bits(1)).double().mean()) < 1e-3
    assert float((r.bits(0) == r.advance().bits(0)).double().mean()) < 1e-3


def test_upper_seed_bits_matter():
    keys = RNG.from_seeds(torch.tensor([0, 1 << 32, 1 << 40, (1 << 62) + 5, 5])).key
    assert len(set(keys.tolist())) == 5


def test_a_sub_environment_does_not_depend_on_batch_size_or_position():
    seeds = torch.tensor([5, 17, 0, 3, 99, 2**40 + 1])
    batch = RNG.from_seeds(seeds)
    for c in (0, 1, 17):
        b = RNG(batch.key, batch.counter + c)
        for i, s in enumerate(seeds.tolist()):
            single = rng_from([s], c)
            assert torch.equal(b.uniform(3, 2, 3)[i], single.uniform(3, 2, 3)[0])
            assert torch.equal(b.bits(0)[i : i + 1], single.bits(0))
            assert torch.equal(b[i : i + 1].uniform(1), single.uniform(1))
    perm = torch.randperm(len(seeds), generator=torch.Generator().manual_seed(0))
    assert torch.equal(RNG.from_seeds(seeds[perm]).uniform(9, 4), batch.uniform(9, 4)[perm])


def test_advance_keeps_the_key_and_counts():
    r = rng_from(range(3))
    a = r.advance().advance()
    assert torch.equal(a.key, r.key) and a.counter.tolist() == [2, 2, 2]
    assert not torch.equal(a.uniform(0), r.uniform(0))


def test_uniform_values_are_exact_multiples_of_2_to_the_minus_24():
    r = rng_from(range(4096))
    u = r.uniform(0, 3)
    k = u.double() * 2**24
    assert torch.equal(k, k.floor())  # integers: representable exactly in float32 and float64
    assert torch.equal(k.long(), r.bits(0, 3) >> 8)
    # Converting to float64 and back loses nothing; the float64 formula gives the same numbers.
    assert torch.equal(u.double().float(), u)
    assert torch.equal(u.double(), (r.bits(0, 3) >> 8).double() / 2**24)


def test_known_values_are_pinned():
    # Changing the generator changes every seeded trajectory of a stochastic game: that needs
    # new env versions. These numbers pin it.
    r = rng_from([0, 1, 2**33])
    assert r.key.tolist() == [py_hash32(0, 0, 0x5EED), py_hash32(1, 0, 0x5EED), py_hash32(0, 2, 0x5EED)]
    got = r.bits(0).tolist()
    assert got == [py_hash32(k, 0, 0) for k in r.key.tolist()]
    assert r.uniform(0).tolist() == [(b >> 8) / 2**24 for b in got]
    assert [hex(x) for x in r.key.tolist()] == PINNED_KEYS


PINNED_KEYS = ["0xa7d7cb48", "0xa6e376bf", "0xddd8b503"]


def test_golden_hash_values():
    # Literal outputs of the hash (computed once; a change here changes every trajectory).
    assert [py_hash32(0), py_hash32(1, 2, 3), py_hash32(0xFFFFFFFF, 0x5EED)] == GOLDEN
    assert hash32(torch.tensor([0, 1]), 2, 3).tolist() == [py_hash32(0, 2, 3), py_hash32(1, 2, 3)]


GOLDEN = [3733449084, 1092223302, 4287837007]


@given(
    seed=st.integers(0, 2**63 - 1),
    counter=st.integers(0, 10_000),
    stream=st.integers(0, 300),
    shape=st.lists(st.integers(1, 4), max_size=3),
)
def test_pure_python_twin_gives_the_same_numbers(seed, counter, stream, shape):
    core = rng_from([seed], counter)
    twin = SubEnvRNG.from_seed(seed)
    for _ in range(counter):
        twin = twin.advance()
    assert (twin.key, twin.counter) == (int(core.key[0]), int(core.counter[0]))
    assert twin.bits(stream, *shape) == core.bits(stream, *shape)[0].tolist()
    assert twin.uniform(stream, *shape) == core.uniform(stream, *shape)[0].tolist()


def test_uniform_is_identical_on_every_device(device):
    seeds = torch.arange(1000) * 7919
    cpu = RNG.from_seeds(seeds)
    dev = RNG.from_seeds(seeds.to(device))
    for c in (0, 3):
        a, b = RNG(cpu.key, cpu.counter + c), RNG(dev.key, dev.counter + c)
        assert torch.equal(a.bits(2, 3, 2), b.bits(2, 3, 2).cpu())
        assert torch.equal(a.uniform(2, 3, 2), b.uniform(2, 3, 2).cpu())


class TestSampleCategorical:
    def test_degenerate_distributions(self):
        u = rng_from(range(1000)).uniform(0)
        ones = torch.ones(1000)
        assert sample_categorical(torch.stack([ones, 0 * ones], -1), u).eq(0).all()
        assert sample_categorical(torch.stack([0 * ones, ones], -1), u).eq(1).all()
        assert sample_categorical(torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([0.0])).item() == 1

    def test_inverse_cdf_edges(self):
        p = torch.tensor([[0.5, 0.5]] * 3)
        assert sample_categorical(p, torch.tensor([0.0, 0.4999, 0.5])).tolist() == [0, 0, 1]
        assert sample_categorical(torch.tensor([[0.2, 0.3, 0.5]]), torch.tensor([0.99999])).item() == 2

    def test_frequencies(self):
        u = rng_from(range(N)).uniform(200)
        p = torch.tensor([0.3, 0.7]).expand(N, 2)
        frac0 = float(sample_categorical(p, u).eq(0).double().mean())
        assert abs(frac0 - 0.3) < 6 * math.sqrt(0.3 * 0.7 / N)
        q = torch.tensor([0.1, 0.2, 0.3, 0.4]).expand(N, 4)
        freq = torch.bincount(sample_categorical(q, u), minlength=4).double() / N
        assert torch.allclose(freq, torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64), atol=0.012)

    def test_unnormalised_weights(self):
        u = torch.tensor([0.0, 0.24, 0.26, 0.99])
        assert sample_categorical(torch.tensor([[1.0, 3.0]] * 4), u).tolist() == [0, 0, 1, 1]
