"""Evaluation scenarios as data, with versioned ids (``ipd/zoo-v0``), and the suites that group them.

A :class:`Scenario` is a game, a co-player population, a protocol and the metrics it reports.
The protocol is the shaping meta-environment's (:mod:`social_dilemmas.wrappers.shaping`): each
replicate is one co-player (one meta-batch slot) facing the focal policy in ``batch_size`` games
at once for ``num_inner_episodes`` inner episodes; a learning co-player takes one update between
inner episodes; co-player memory follows the co-player (fixed strategies and naive learners reset
it at every inner boundary, frozen agents never); the focal policy's memory starts afresh at the
meta-episode start, and also at every inner start if the policy says so
(``resets_at_inner_boundary``). Replicates differ in every random stream (games, co-player
initialisation), and the focal policy never learns across them, so they are independent.

Opponents are :class:`OpponentSpec` data, resolved when a scenario runs
(:mod:`social_dilemmas.benchmark.runner`): ``zoo`` (a fixed or scripted strategy by name),
``naive`` (naive A2C learners, :class:`~social_dilemmas.coplayers.naive.NaiveConfig` overrides
in ``options``), ``reference`` (a shipped frozen reference agent), ``self`` (a copy of the focal
policy), ``axelrod`` (a strategy of the optional ``axelrod`` package), ``policy`` (any policy object in
``options["policy"]``, seated as a frozen co-player: the league's cross-play).

Ids follow the environments' rule: any change of a scenario's game, population or protocol
gets a new ``-vN``; results recorded under an id stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GAME_BOUNDS",
    "SCENARIOS",
    "SUITES",
    "OpponentSpec",
    "Scenario",
    "get_scenario",
    "list_scenarios",
    "resolve_suite",
]

OPPONENT_KINDS = ("zoo", "naive", "reference", "self", "axelrod", "policy")


@dataclass(frozen=True)
class OpponentSpec:
    """One member of a scenario's co-player population.

    Attributes:
        name: label in reports (unique within the scenario).
        kind: one of ``zoo``, ``naive``, ``reference``, ``self``, ``axelrod``, ``policy``.
        options: kind-specific data: ``{"strategy": name}`` for ``zoo`` / ``axelrod``,
            :class:`~social_dilemmas.coplayers.naive.NaiveConfig` overrides for ``naive``,
            ``{"agent": name}`` for ``reference``.
    """

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in OPPONENT_KINDS:
            raise ValueError(f"opponent kind must be one of {', '.join(OPPONENT_KINDS)}, got {self.kind!r}")


@dataclass(frozen=True)
class Scenario:
    """A named, versioned evaluation scenario.

    Attributes:
        id: ``family/name-vN``, e.g. ``"ipd/zoo-v0"``.
        game: registered game id (``"IPD-v0"``).
        description: one line for listings and reports.
        opponents: the co-player population.
        num_inner_episodes: ``M`` inner episodes per meta-episode (one co-player update between two).
        batch_size: ``B`` games played at once against each co-player.
        seeds: default number of replicates (independent co-players) per opponent.
        game_kwargs: options of the game (e.g. a longer ``max_steps``).
        metrics: names of the figures reported (see :mod:`social_dilemmas.benchmark.metrics`).
    """

    id: str
    game: str
    description: str
    opponents: tuple[OpponentSpec, ...]
    num_inner_episodes: int = 1
    batch_size: int = 8
    seeds: int = 8
    game_kwargs: dict[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] = ("reward", "coplayer_reward", "welfare", "cooperation", "coplayer_cooperation",
                                "score")

    @property
    def family(self) -> str:
        return self.id.split("/", 1)[0]

    def opponent_names(self) -> list[str]:
        return [o.name for o in self.opponents]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "game": self.game, "description": self.description,
                "opponents": [{"name": o.name, "kind": o.kind, "options": dict(o.options)} for o in self.opponents],
                "num_inner_episodes": self.num_inner_episodes, "batch_size": self.batch_size, "seeds": self.seeds,
                "game_kwargs": dict(self.game_kwargs), "metrics": list(self.metrics)}


#: Per game: the focal reward per step of mutual defection (score 0) and of mutual cooperation
#: (score 1). IPD: the payoffs P and R. Coin game: both players take every coin / both take only
#: their own (the scripted bots of :mod:`social_dilemmas.benchmark.zoo`, measured by
#: :func:`social_dilemmas.benchmark.metrics.measure_bounds`). CleanUp-lite: two harvesters
#: (nothing ever grows) / a cleaner with a harvester (per player: half their joint reward).
GAME_BOUNDS: dict[str, tuple[float, float]] = {
    "IPD-v0": (0.0, 1.0),
    "CoinGame-v0": (0.0007, 0.3307),
    "CleanUpLite-v0": (0.0011, 0.1890),
}

_IPD_ZOO = ("always_cooperate", "always_defect", "tit_for_tat", "tit_for_two_tats", "grim_trigger",
            "win_stay_lose_shift", "random", "alternator", "zd_extort_3", "zd_generous_2")
_ZOO = tuple(OpponentSpec(n, "zoo", {"strategy": n}) for n in _IPD_ZOO)
#: Axelrod's ``basic_strategies`` (the names of axelrod 4.x).
_AXELROD = ("Alternator", "Anti Tit For Tat", "Bully", "Cooperator", "Cycler DC", "Defector", "Suspicious Tit For Tat",
            "Tit For Tat", "Win-Shift Lose-Stay", "Win-Stay Lose-Shift")
_REFERENCE_OPPONENTS = tuple(OpponentSpec(n, "reference", {"agent": n}) for n in ("coala-ppo", "mfos", "batch-unaware"))
_SELF = (OpponentSpec("self", "self"),)
_SHAPING = {"num_inner_episodes": 10, "batch_size": 8}  # the ipd-shaping-quick geometry (paper: M 20, B 16)
_SHAPING_METRICS = ("reward", "coplayer_reward", "welfare", "cooperation", "coplayer_cooperation",
                    "shaping", "score")


_CLEANUP_METRICS = ("reward", "coplayer_reward", "welfare", "cooperation", "coplayer_cooperation", "cleaning_share",
                    "score")


def _coin_zoo() -> tuple[OpponentSpec, ...]:
    return tuple(OpponentSpec(n, "zoo", {"strategy": n}) for n in ("coin_taker", "coin_own_only", "random"))


def _cleanup_zoo() -> tuple[OpponentSpec, ...]:
    return tuple(OpponentSpec(n, "zoo", {"strategy": n}) for n in ("cleaner", "harvester", "random"))


_ALL = [
    Scenario("ipd/zoo-v0", "IPD-v0", "IPD against ten fixed strategies (ALLC ... generous ZD), 10 inner episodes",
             _ZOO, **_SHAPING),
    Scenario("ipd/naive-v0", "IPD-v0", "IPD shaping: the paper's naive A2C learners (Table 8, Hawk), one update "
             "between inner episodes", (OpponentSpec("naive-hawk", "naive"),), metrics=_SHAPING_METRICS, **_SHAPING),
    Scenario("ipd/naive-variants-v0", "IPD-v0", "IPD shaping: naive learners built differently (GRU lr 0.01, "
             "tabular lr 0.5, Hawk lr 0.02)",
             (OpponentSpec("naive-gru", "naive", {"model": "gru", "learning_rate": 0.01}),
              OpponentSpec("naive-tabular", "naive", {"model": "tabular", "learning_rate": 0.5}),
              OpponentSpec("naive-hawk-fast", "naive", {"learning_rate": 0.02})),
             metrics=_SHAPING_METRICS, **_SHAPING),
    Scenario("ipd/reference-v0", "IPD-v0", "IPD against the shipped frozen reference agents (long-context memory)",
             _REFERENCE_OPPONENTS, **_SHAPING),
    Scenario("ipd/selfplay-v0", "IPD-v0", "IPD against a copy of the focal policy", _SELF, **_SHAPING),
    # -- not in a suite
    Scenario("ipd/naive-paper-v0", "IPD-v0", "IPD shaping at the paper's geometry (M 20, B 16)",
             (OpponentSpec("naive-hawk", "naive"),), num_inner_episodes=20, batch_size=16,
             metrics=_SHAPING_METRICS),
    Scenario("ipd/axelrod-v0", "IPD-v0", "IPD against Axelrod's basic strategies (needs the axelrod extra)",
             tuple(OpponentSpec(n, "axelrod", {"strategy": n}) for n in _AXELROD), **_SHAPING),
    Scenario("ipd/zoo-long-v0", "IPD-v0", "IPD zoo with 1000-round episodes (long-run averages, e.g. ZD relations)",
             _ZOO, num_inner_episodes=1, batch_size=8, game_kwargs={"max_steps": 1000}),
    # -- gridworlds: scripted co-players and self-play (no reference agents: see docs/benchmark.md)
    Scenario("coingame/zoo-v0", "CoinGame-v0", "coin game against a coin-taker, an own-coin taker and a random "
             "player", _coin_zoo(), num_inner_episodes=1, batch_size=16),
    Scenario("coingame/naive-v0", "CoinGame-v0", "coin game shaping: naive A2C learners (Hawk, Table 8 IPD column)",
             (OpponentSpec("naive-hawk", "naive"),), num_inner_episodes=8, batch_size=8, metrics=_SHAPING_METRICS),
    Scenario("coingame/selfplay-v0", "CoinGame-v0", "coin game against a copy of the focal policy", _SELF,
             num_inner_episodes=1, batch_size=16),
    Scenario("cleanup/zoo-v0", "CleanUpLite-v0", "CleanUp-lite against a diligent cleaner, a pure harvester and a "
             "random player", _cleanup_zoo(), num_inner_episodes=1, batch_size=8, metrics=_CLEANUP_METRICS),
    Scenario("cleanup/selfplay-v0", "CleanUpLite-v0", "CleanUp-lite against a copy of the focal policy", _SELF,
             num_inner_episodes=1, batch_size=8, metrics=_CLEANUP_METRICS),
]

SCENARIOS: dict[str, Scenario] = {s.id: s for s in _ALL}

#: Suites: what ``social-dilemmas benchmark POLICY --suite NAME`` runs.
SUITES: dict[str, tuple[str, ...]] = {
    "ipd": ("ipd/zoo-v0", "ipd/naive-v0", "ipd/naive-variants-v0", "ipd/reference-v0", "ipd/selfplay-v0"),
    "coingame": ("coingame/zoo-v0", "coingame/naive-v0", "coingame/selfplay-v0"),
    "cleanup": ("cleanup/zoo-v0", "cleanup/selfplay-v0"),
    "axelrod": ("ipd/axelrod-v0",),
}


def list_scenarios() -> list[str]:
    """Every registered scenario id, sorted."""
    return sorted(SCENARIOS)


def get_scenario(scenario_id: str | Scenario) -> Scenario:
    """The scenario with id ``scenario_id`` (a :class:`Scenario` is returned as is)."""
    if isinstance(scenario_id, Scenario):
        return scenario_id
    if scenario_id not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario_id!r}; known scenarios: {', '.join(list_scenarios())}")
    return SCENARIOS[scenario_id]


def resolve_suite(suite: str | Scenario | list[Any] | tuple[Any, ...]) -> list[Scenario]:
    """A suite name, one scenario (id or object), a comma-separated list of names, or a list -> the scenarios."""
    if isinstance(suite, Scenario):
        return [suite]
    if isinstance(suite, str) and "," in suite:
        out: list[Scenario] = []
        for part in suite.split(","):
            out += [s for s in resolve_suite(part.strip()) if s not in out]
        return out
    if isinstance(suite, str):
        if suite in SUITES:
            return [SCENARIOS[s] for s in SUITES[suite]]
        if suite in SCENARIOS:
            return [SCENARIOS[suite]]
        raise ValueError(f"unknown suite {suite!r}; suites: {', '.join(sorted(SUITES))}; or a scenario id: "
                         f"{', '.join(list_scenarios())}")
    if isinstance(suite, (list, tuple)) and suite:
        return [get_scenario(s) for s in suite]
    raise ValueError(f"suite must be a suite name ({', '.join(sorted(SUITES))}), a scenario id or a list of them; "
                     f"got {suite!r}")
