"""The environment registry as data, and its registration with Gymnasium and PettingZoo.

Each :class:`EnvEntry` names a batched core (``module:Class``), its default keyword
arguments and a PettingZoo-style module. Ids carry versions: any change of dynamics,
rewards, observations or defaults gets a new ``-vN`` and a line in the module's version
history.
"""

from __future__ import annotations

import importlib
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
        kwargs: default keyword arguments of the core (always including ``max_steps``).
        default_opponent: co-player of the single-agent Gymnasium view.
    """

    id: str
    core: str
    module: str
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    default_opponent: str = "random"

    @property
    def full_id(self) -> str:
        return f"{NAMESPACE}/{self.id}"

    @property
    def max_steps(self) -> int:
        return int(self.kwargs["max_steps"])


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


def _load(path: str) -> Any:
    mod, _, attr = path.partition(":")
    return getattr(importlib.import_module(mod), attr)


def _strip_namespace(env_id: str) -> str:
    if not isinstance(env_id, str):
        raise TypeError(f"env id must be a string, got {env_id!r}")
    return env_id.split("/", 1)[1] if env_id.startswith(NAMESPACE + "/") else env_id


def get_entry(env_id: str) -> EnvEntry:
    """The registry entry of ``env_id`` (with or without the ``social_dilemmas/`` prefix)."""
    key = _strip_namespace(env_id)
    if key not in REGISTRY:
        raise ValueError(f"unknown env id {env_id!r}; registered ids: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[key]


def make_game(env_id: str, *, device: Any = "cpu", **kwargs: Any) -> BatchedGame:
    """Build the pure batched core of ``env_id`` with ``kwargs`` over the registry defaults."""
    entry = get_entry(env_id)
    cls = _load(entry.core)
    merged = {**entry.kwargs, **kwargs}
    try:
        return cls(device=device, **merged)
    except TypeError as e:
        if "unexpected keyword argument" in str(e):
            raise TypeError(f"{entry.id}: {e}") from None
        raise


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


def registered_ids() -> list[str]:
    """Every registered id, without namespace."""
    return list(REGISTRY)


#: Faces of the co-player shaping meta-environment (``social_dilemmas.wrappers.shaping``) that
#: ``register_all`` registers for every game as ``<Game>-Shaping-v<N>``.
SHAPING_ENTRY_POINTS = {
    "entry_point": "social_dilemmas.adapters.meta_gymnasium:ShapingEnv",
    "vector_entry_point": "social_dilemmas.adapters.meta_gymnasium:ShapingVectorEnv",
}


def shaping_id(env_id: str) -> str:
    """The id of ``env_id``'s shaping meta-environment: ``"IPD-v0"`` -> ``"IPD-Shaping-v0"``."""
    name, _, version = _strip_namespace(env_id).rpartition("-v")
    return f"{name}-Shaping-v{version}"


def register_all() -> None:
    """Register every entry with Gymnasium (and PettingZoo's registry when it has one)."""
    import gymnasium as gym

    for entry in REGISTRY.values():
        if entry.full_id not in gym.registry:
            gym.register(
                id=entry.full_id,
                entry_point="social_dilemmas.adapters.gymnasium_env:SingleAgentEnv",
                vector_entry_point="social_dilemmas.adapters.gymnasium_vector:BatchedVectorEnv",
                # No max_episode_steps: the game truncates at its own ``max_steps`` (T). A
                # registered TimeLimit would silently cut ``gym.make(id, max_steps=20)`` at the
                # default T.
                kwargs={"env_id": entry.id},
            )
        # The co-player shaping meta-environment of every game: <Game>-Shaping-v<N>.
        shaping = f"{NAMESPACE}/{shaping_id(entry.id)}"
        if shaping not in gym.registry:
            gym.register(id=shaping, **SHAPING_ENTRY_POINTS, kwargs={"game": entry.id})
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
        for kind, factory in (("parallel", "parallel_env"), ("aec", "env")):
            if entry.full_id not in registries[kind]:
                register(kind, entry.full_id, entry_point=f"{entry.module}:{factory}")
