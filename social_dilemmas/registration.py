"""The environment registry as data, and its registration with Gymnasium and PettingZoo.

One registry, :data:`REGISTRY`, holds every id the package answers to, of two kinds:

* ``"game"`` — a batched game core (``IPD-v0`` ...): Gymnasium single-agent and vector faces,
  PettingZoo parallel/AEC faces, ``make_game``/``make_batched``, ``social-dilemmas bench``;
* ``"shaping"`` — the co-player shaping meta-environment of a game (``IPD-Shaping-v0`` ...,
  one per two-player game, derived from it): Gymnasium single-agent and vector faces, and
  ``social-dilemmas bench`` (its page: :mod:`social_dilemmas.envs.shaping_v0`).

Each :class:`EnvEntry` names its core (``module:Class``), default keyword arguments and the
module whose docstring is its documentation page. Ids carry versions: any change of dynamics,
rewards, observations or defaults gets a new ``-vN`` and a line in the module's version
history.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

from social_dilemmas.core.batched_env import BatchedEnv
from social_dilemmas.core.game import BatchedGame

NAMESPACE = "social_dilemmas"


@dataclass(frozen=True)
class EnvEntry:
    """One registered game.

    Attributes:
        id: versioned id without namespace, e.g. ``"IPD-v0"``.
        core: ``"module:Class"`` of the :class:`BatchedGame`.
        module: the PettingZoo-style module (``parallel_env``/``env``/``raw_env``), whose
            docstring is the environment's documentation page.
        description: one line for ``social-dilemmas list``.
        kwargs: default keyword arguments of the core (a game's always include ``max_steps``;
            a shaping entry's name its ``game``).
        default_opponent: co-player of the single-agent Gymnasium view.
        kind: ``"game"`` or ``"shaping"`` (see the module docstring).
    """

    id: str
    core: str
    module: str
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    default_opponent: str = "random"
    kind: str = "game"

    @property
    def full_id(self) -> str:
        return f"{NAMESPACE}/{self.id}"

    @property
    def max_steps(self) -> int:
        """Steps per episode ``T`` (of the game; for a shaping entry, of its inner episodes)."""
        if self.kind == "shaping":
            return REGISTRY[self.kwargs["game"]].max_steps
        return int(self.kwargs["max_steps"])

    @property
    def pettingzoo_alias(self) -> str:
        """PettingZoo's own id form of a game, from its module name: ``"social_dilemmas/ipd-v0"``
        (PettingZoo also accepts ``ipd_v0`` and the unversioned ``ipd`` for it)."""
        name, _, version = self.module.rsplit(".", 1)[-1].rpartition("_v")
        return f"{NAMESPACE}/{name}-v{version}"


def _strip_namespace(env_id: str) -> str:
    if not isinstance(env_id, str):
        raise TypeError(f"env id must be a string, got {env_id!r}")
    return env_id.split("/", 1)[1] if env_id.startswith(NAMESPACE + "/") else env_id


_MG = "social_dilemmas.envs.matrix_game:IteratedMatrixGame"

REGISTRY: dict[str, EnvEntry] = {
    e.id: e
    for e in [
        EnvEntry(
            "IPD-v0",
            _MG,
            "social_dilemmas.envs.ipd_v0",
            "Iterated prisoner's dilemma exactly as Meulemans et al. 2025 (T=10, 5-state one-hot).",
            {"payoffs": "prisoners_dilemma", "max_steps": 10, "name": "IPD-v0"},
            default_opponent="tit_for_tat",
        ),
        EnvEntry(
            "IteratedMatchingPennies-v0",
            _MG,
            "social_dilemmas.envs.matching_pennies_v0",
            "Iterated matching pennies, a zero-sum 2x2 game (T=10).",
            {"payoffs": "matching_pennies", "max_steps": 10, "name": "IteratedMatchingPennies-v0"},
        ),
        EnvEntry(
            "IteratedStagHunt-v0",
            _MG,
            "social_dilemmas.envs.stag_hunt_v0",
            "Iterated stag hunt: cooperation pays but is risky (T=10).",
            {"payoffs": "stag_hunt", "max_steps": 10, "name": "IteratedStagHunt-v0"},
        ),
        EnvEntry(
            "IteratedChicken-v0",
            _MG,
            "social_dilemmas.envs.chicken_v0",
            "Iterated chicken (hawk-dove): mutual defection is the worst outcome (T=10).",
            {"payoffs": "chicken", "max_steps": 10, "name": "IteratedChicken-v0"},
        ),
        EnvEntry(
            "IteratedMatrixGame-v0",
            _MG,
            "social_dilemmas.envs.matrix_game_v0",
            "Any user-supplied 2x2 payoff table played iteratively (default: the paper's IPD).",
            {"payoffs": "prisoners_dilemma", "max_steps": 10, "name": "IteratedMatrixGame-v0"},
        ),
        EnvEntry(
            "CleanUpLite-v0",
            "social_dilemmas.envs.cleanup_lite:CleanUpLite",
            "social_dilemmas.envs.cleanup_lite_v0",
            "CleanUp-lite: a 2-player 5x4 tragedy of the commons (orchard, polluted river, zaps; T=64).",
            {"max_steps": 64, "name": "CleanUpLite-v0", "freeze_includes_zap_step": False},
            default_opponent="random",
        ),
        EnvEntry(
            "CleanUpLite-v1",
            "social_dilemmas.envs.cleanup_lite:CleanUpLite",
            "social_dilemmas.envs.cleanup_lite_v1",
            "CleanUp-lite, v1: as v0 but a zapped player is frozen for 5 steps counting the zap step (T=64).",
            {"max_steps": 64, "name": "CleanUpLite-v1", "freeze_includes_zap_step": True},
            default_opponent="random",
        ),
        EnvEntry(
            "CoinGame-v0",
            "social_dilemmas.envs.coin_game:CoinGame",
            "social_dilemmas.envs.coin_game_v0",
            "The LOLA coin game: 3x3 torus, red and blue coins, -2 to the owner when the other takes its coin (T=16).",
            {"max_steps": 16, "name": "CoinGame-v0"},
            default_opponent="random",
        ),
    ]
}

#: Kinds of registry entries.
KINDS = ("game", "shaping")
SHAPING_CORE = "social_dilemmas.wrappers.shaping:ShapingMetaEnv"
SHAPING_MODULE = "social_dilemmas.envs.shaping_v0"


def shaping_id(env_id: str) -> str:
    """The id of ``env_id``'s shaping meta-environment: ``"IPD-v0"`` -> ``"IPD-Shaping-v0"``."""
    name, _, version = _strip_namespace(env_id).rpartition("-v")
    return f"{name}-Shaping-v{version}"


def _shaping_entry(game: EnvEntry) -> EnvEntry:
    return EnvEntry(
        shaping_id(game.id),
        SHAPING_CORE,
        SHAPING_MODULE,
        f"Co-player shaping meta-environment over {game.id}: the ego plays M inner episodes against learning "
        "co-players (naive learners by default).",
        {"game": game.id},
        default_opponent="naive",
        kind="shaping",
    )


# Every two-player game gets its shaping meta-environment (all registered games have two players).
REGISTRY.update({e.id: e for e in map(_shaping_entry, list(REGISTRY.values()))})


def _load(path: str) -> Any:
    mod, _, attr = path.partition(":")
    return getattr(importlib.import_module(mod), attr)


def get_entry(env_id: str, kind: str | None = None) -> EnvEntry:
    """The registry entry of ``env_id`` (with or without the ``social_dilemmas/`` prefix).

    ``kind`` (``"game"`` or ``"shaping"``) also requires the entry to be of that kind.
    """
    key = _strip_namespace(env_id)
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be None or one of {KINDS}, got {kind!r}")
    listed = "registered ids" if kind is None else f"registered {kind} ids"
    known = ", ".join(sorted(registered_ids(kind)))
    if key not in REGISTRY:
        raise ValueError(f"unknown env id {env_id!r}; {listed}: {known}")
    entry = REGISTRY[key]
    if kind is not None and entry.kind != kind:
        what = (f"the shaping meta-environment of {entry.kwargs['game']}: build it with gym.make / gym.make_vec "
                "or ShapingMetaEnv" if entry.kind == "shaping" else f"a {entry.kind}")
        raise ValueError(f"{entry.id} is not a {kind} id ({what}); {listed}: {known}")
    return REGISTRY[key]


def make_game(env_id: str, *, device: Any = "cpu", **kwargs: Any) -> BatchedGame:
    """Build the pure batched core of game ``env_id`` with ``kwargs`` over the registry defaults."""
    entry = get_entry(env_id, "game")
    cls = _load(entry.core)
    merged = {**entry.kwargs, **kwargs}
    params = inspect.signature(cls).parameters
    accepted = [n for n in params if n not in ("self", "device", "name")]
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [] if open_ended else [k for k in kwargs if k not in accepted and k != "name"]
    if unknown:
        close = difflib.get_close_matches(unknown[0], accepted, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TypeError(f"{entry.id}: unexpected keyword argument {unknown[0]!r}{hint}; its options: "
                        f"{', '.join(accepted)}")
    return cls(device=device, **merged)


def make_batched(
    env_id: str, batch_size: int, *, device: Any = "cpu", autoreset: bool = True, **kwargs: Any
) -> BatchedEnv:
    """A torch-native batch of ``batch_size`` games of ``env_id`` on ``device``.

    Example:
        >>> import torch, social_dilemmas
        >>> env = social_dilemmas.make_batched("IPD-v0", batch_size=4)
        >>> obs = env.reset(seed=0)                       # [4, 2, 5]
        >>> out = env.step(torch.zeros(4, 2, dtype=torch.long))
        >>> out.reward[0].tolist()
        [1.0, 1.0]
    """
    return BatchedEnv(make_game(env_id, device=device, **kwargs), batch_size, autoreset=autoreset)


def registered_ids(kind: str | None = None) -> list[str]:
    """Every registered id (without namespace), or only those of ``kind`` (``"game"``, ``"shaping"``)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be None or one of {KINDS}, got {kind!r}")
    return [k for k, e in REGISTRY.items() if kind is None or e.kind == kind]


#: Gymnasium entry points of each kind. A game's single-agent view runs without a time limit of
#: its own under ``gym.make`` (:class:`~social_dilemmas.adapters.gymnasium_env.RegisteredSingleAgentEnv`):
#: Gymnasium's ``TimeLimit`` ends its episodes, registered at the game's ``T`` and overridden by
#: ``max_episode_steps`` as for any Gymnasium id.
GYMNASIUM_ENTRY_POINTS = {
    "game": {
        "entry_point": "social_dilemmas.adapters.gymnasium_env:RegisteredSingleAgentEnv",
        "vector_entry_point": "social_dilemmas.adapters.gymnasium_vector:BatchedVectorEnv",
    },
    "shaping": {
        "entry_point": "social_dilemmas.adapters.meta_gymnasium:ShapingEnv",
        "vector_entry_point": "social_dilemmas.adapters.meta_gymnasium:ShapingVectorEnv",
    },
}
#: Kept for callers of the old name: the shaping faces.
SHAPING_ENTRY_POINTS = GYMNASIUM_ENTRY_POINTS["shaping"]


def gymnasium_kwargs(entry: EnvEntry) -> dict[str, Any]:
    """The keyword arguments ``entry`` is registered with in Gymnasium."""
    if entry.kind == "shaping":
        return {"game": entry.kwargs["game"]}
    return {"env_id": entry.id}


def register_all() -> None:
    """Register every entry with Gymnasium, and every game with PettingZoo's registry (when it has one)
    under its id and under PettingZoo's module-name form (``social_dilemmas/ipd-v0``, alias ``ipd_v0``)."""
    import gymnasium as gym

    for entry in REGISTRY.values():
        if entry.full_id not in gym.registry:
            gym.register(
                id=entry.full_id,
                **GYMNASIUM_ENTRY_POINTS[entry.kind],
                # A game's episode length is Gymnasium's time limit: gym.make(id, max_episode_steps=k),
                # make_vec(..., max_episode_steps=k) in every vectorization mode. A meta-episode has
                # the fixed horizon M * T set by its own arguments.
                max_episode_steps=entry.max_steps if entry.kind == "game" else None,
                kwargs=gymnasium_kwargs(entry),
            )
    try:
        import pettingzoo
    except ImportError:  # pragma: no cover - pettingzoo is a core dependency
        return
    register = getattr(pettingzoo, "register", None)
    if register is None:  # PettingZoo without a registry (< 1.27)
        return
    registries = {
        "parallel": getattr(pettingzoo, "parallel_registry", {}),
        "aec": getattr(pettingzoo, "aec_registry", {}),
    }
    for entry in REGISTRY.values():
        if entry.kind != "game":
            continue
        for kind, factory in (("parallel", "parallel_env"), ("aec", "env")):
            for pz_id in (entry.full_id, entry.pettingzoo_alias):
                if pz_id not in registries[kind]:
                    register(kind, pz_id, entry_point=f"{entry.module}:{factory}")
