"""The typed settings of every trainer (:class:`Args`, :class:`LolaArgs`) and what a run returns.

One dataclass per trainer, CleanRL-style: every knob with its default (the paper's IPD
pure-shaping setting, Tables 2, 4, 8) and a one-line doc. Presets
(:mod:`social_dilemmas.baselines.presets`) are dicts of these fields.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import tyro

from social_dilemmas.baselines.estimators import ESTIMATOR_FLAGS
from social_dilemmas.core.devices import check_device
from social_dilemmas.core.validation import (
    MAX_BATCH,
    MAX_HIDDEN,
    MAX_STEPS,
    Check,
    Flag,
    Float,
    Int,
    Maybe,
    OneOf,
    Rule,
    Text,
    cli_label,
    validate_fields,
)

if TYPE_CHECKING:
    from social_dilemmas.models import PolicyValueModel

#: a dict field given as one JSON object on the command line (``--game-kwargs '{"max_steps": 5}'``)
JSONDict = Annotated[dict[str, Any], tyro.constructors.PrimitiveConstructorSpec(
    nargs=1, metavar="JSON", instance_from_str=lambda a: json.loads(a[0]), is_instance=lambda x: isinstance(x, dict),
    str_from_instance=lambda d: [json.dumps(d)])]


#: Largest ``seed``: derived seeds (model and co-player inits) stay within torch's seed range.
MAX_SEED = 2**32 - 1
#: Most torch CPU threads accepted for ``torch_threads``.
MAX_THREADS = 1024


def _device(name: str, value: Any) -> str:
    check_device(value, name)
    return str(value)


def _game(name: str, value: Any) -> str:
    from social_dilemmas.registration import REGISTRY, get_entry  # noqa: PLC0415

    if not isinstance(value, str):
        raise TypeError(f"{name} must be a registered game id ({', '.join(REGISTRY)}), got {value!r}")
    try:
        get_entry(value)
    except ValueError:
        raise ValueError(f"{name} must be a registered game id ({', '.join(REGISTRY)}), got {value!r}") from None
    return value


def _mapping(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise TypeError(f"{name} must be a dict of game options (JSON object on the command line, e.g. "
                        f"'{{\"max_steps\": 20}}'), got {value!r}")
    return value


def _history(name: str, value: Any) -> Any:
    from social_dilemmas.wrappers.history import CHANNELS, parse_history  # noqa: PLC0415

    try:
        parse_history(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be names of history channels ({', '.join(CHANNELS)}), got {value!r}") from None
    return value


def _model_kind(name: str, value: Any) -> str:
    from social_dilemmas.models import MODEL_KINDS  # noqa: PLC0415

    return OneOf(tuple(sorted(MODEL_KINDS)))(name, value)


#: What every :class:`Args` field accepts; checked on construction and ``replace`` (before a run
#: touches its run directory). Messages name the field as in Python and on the command line.
ARGS_RULES: dict[str, Rule] = {
    "algo": Text(),
    "preset": Maybe(Text()),
    "seed": Int(0, MAX_SEED),
    "device": Check(_device),
    "game": Check(_game),
    "game_kwargs": Check(_mapping),
    "iterations": Int(1, MAX_STEPS),
    "meta_batch": Int(1, MAX_BATCH),
    "batch_size": Int(1, MAX_BATCH),
    "num_inner_episodes": Int(1, MAX_STEPS),
    "p_naive": Float(0.0, 1.0),
    "population_size": Int(1, MAX_BATCH),
    "naive_population_size": Int(1, MAX_BATCH),
    "dynamic_naive_agents": Flag(),
    "history": Check(_history),
    "model": Check(_model_kind),
    "hidden": Int(1, MAX_HIDDEN),
    "estimator": OneOf(tuple(sorted(ESTIMATOR_FLAGS))),
    "algorithm": OneOf(("ppo", "a2c")),
    "ppo_nminibatches": Int(1, MAX_BATCH),
    "ppo_nepochs": Int(1, MAX_STEPS),
    "clip_eps": Float(0.0, low_open=True),
    "value_coef": Float(0.0),
    "clip_value": Flag(),
    "entropy_coef": Float(0.0),
    "advantage_normalization": Flag(),
    "advantage_std": Flag(),
    "batch_scaling": OneOf(("sum", "mean")),
    "reward_rescaling": Float(0.0, low_open=True),
    "gamma": Float(0.0, 1.0),
    "td_lambda": Float(0.0, 1.0),
    "gae_lambda": Float(0.0, 1.0),
    "optimizer": OneOf(("adam", "sgd")),
    "adam_eps": Float(0.0, low_open=True),
    "learning_rate": Float(0.0, low_open=True),
    "max_grad_norm": Maybe(Float(0.0, low_open=True)),
    "naive_model": Maybe(Check(_model_kind)),
    "naive_learning_rate": Float(0.0, low_open=True),
    "naive_optimizer": OneOf(("adam", "sgd")),
    "naive_reward_rescaling": Float(0.0),
    "naive_gamma": Float(0.0, 1.0),
    "run_dir": Maybe(Text()),
    "checkpoint_every": Int(1, MAX_STEPS),
    "resume": Flag(),
    "overwrite": Flag(),
    "progress": Flag(),
    "tensorboard": Maybe(Flag()),
    "torch_threads": Maybe(Int(0, MAX_THREADS)),
}

#: The LOLA-DiCE fields of :class:`LolaArgs`.
LOLA_RULES: dict[str, Rule] = {
    "lola_lookahead": Int(0, 64),
    "lola_opponent_lr": Float(0.0, low_open=True),
    "lola_objective": OneOf(("final", "sum")),
    "lola_eval_every": Int(1, MAX_STEPS),
}


@dataclass
class Args:
    """Every knob of a run. Defaults: the paper's IPD pure-shaping setting (Tables 2, 4, 8)."""

    # --- identity
    # algo and preset are chosen by `train ALGO --preset NAME`, so the generated options leave them out
    algo: Annotated[str, tyro.conf.Suppress] = "coala-ppo"
    """algorithm name as given on the command line (informational)"""
    preset: Annotated[str | None, tyro.conf.Suppress] = None
    """preset the run was built from (informational)"""
    seed: int = 0
    """seeds model init, co-player inits, games and action sampling"""
    device: str = "cpu"
    """torch device of the run: cpu, cuda or cuda:N"""

    # --- environment and pool (Tables 2, 5)
    game: str = "IPD-v0"
    """registered game id, e.g. IPD-v0, CleanUpLite-v0, CoinGame-v0 (`social-dilemmas list`)"""
    game_kwargs: JSONDict = field(default_factory=dict)
    """extra keyword arguments of the game (a JSON object on the command line)"""
    iterations: int = 3000
    """training iterations (one meta-episode per agent and one update each)"""
    meta_batch: int = 128
    """co-player slots per agent: independent meta-episodes per iteration"""
    batch_size: int = 16
    """B: parallel games per co-player"""
    num_inner_episodes: int = 20
    """M: inner episodes per meta-episode (T is the game's episode length)"""
    p_naive: float = 1.0
    """probability that a co-player slot holds a naive learner (1: pure shaping; else a frozen other agent)"""
    population_size: int = 1
    """number of learning (meta) agents trained together"""
    naive_population_size: int = 10
    """distinct naive-learner initialisations the slots draw from"""
    dynamic_naive_agents: bool = False
    """naive inits copied from the current agents every iteration (CleanUp mixed pool)"""
    history: tuple[str, ...] = ()
    """optional history channels of the meta-env observation (paper: none)"""

    # --- network (App. B.3)
    model: str = "hawk"
    """policy/value network of the agents: hawk (the paper's), gru, mlp or tabular"""
    hidden: int = 32
    """hidden width of the network"""

    # --- meta-agent RL (Tables 4, 7)
    estimator: Literal["coala", "batch_unaware", "mfos"] = "coala"
    """advantage estimator: coala (COALA-PG), batch_unaware or mfos (paper App. A.3)"""
    agent_estimators: tuple[str, ...] = ()
    """one estimator per agent for heterogeneous pools (App. H.3: COALA-PG and M-FOS trained together); empty =
    every agent uses `estimator`"""
    algorithm: Literal["ppo", "a2c"] = "ppo"
    """learner update: ppo (clipped surrogate) or a2c (one gradient step)"""
    ppo_nminibatches: int = 2
    """PPO minibatches per epoch (split along meta-batch slots)"""
    ppo_nepochs: int = 4
    """PPO epochs per iteration"""
    clip_eps: float = 0.2
    """PPO ratio clipping epsilon"""
    value_coef: float = 0.5
    """weight of the value loss"""
    clip_value: bool = True
    """clip the value update like the policy ratio (PPO)"""
    entropy_coef: float = 0.0
    """weight of the entropy bonus"""
    advantage_normalization: bool = False
    """centre advantages per agent, separately per opponent kind"""
    advantage_std: bool = False
    """also divide by the standard deviation (the paper only says centering)"""
    batch_scaling: Literal["sum", "mean"] = "sum"
    """COALA/M-FOS sum over b: 'sum' weights naive-opponent trajectories by B, 'mean' does not"""
    reward_rescaling: float = 0.05
    """factor applied to the agents' rewards before the advantages"""
    gamma: float = 1.0
    """discount of the value targets and advantages"""
    td_lambda: float = 1.0
    """lambda of the critic's TD(lambda) targets"""
    gae_lambda: float = 1.0
    """lambda of the generalised advantage estimate"""
    optimizer: Literal["adam", "sgd"] = "adam"
    """optimiser of the agents: adam or sgd"""
    adam_eps: float = 1e-5
    """Adam's epsilon"""
    learning_rate: float = 3e-4
    """learning rate of the agents"""
    max_grad_norm: float | None = 1.0
    """clip each agent's gradient norm to this (None: no clipping)"""

    # --- naive learners (Table 8)
    naive_model: str | None = None
    """network of the naive learners (default: same as ``model``)"""
    naive_learning_rate: float = 0.005
    """learning rate of the naive co-players"""
    naive_optimizer: Literal["adam", "sgd"] = "adam"
    """optimiser of the naive co-players: adam or sgd"""
    naive_reward_rescaling: float = 0.05
    """factor applied to the naive co-players' rewards"""
    naive_gamma: float = 0.99
    """discount of the naive co-players' returns"""

    # --- running it
    run_dir: str | None = None
    """where checkpoint.pt, metrics.csv, args.json and TensorBoard logs go (None: no files)"""
    checkpoint_every: int = 10
    """write checkpoint.pt every this many iterations (and at the end)"""
    resume: bool = False
    """continue the run in ``run_dir`` from its checkpoint"""
    overwrite: bool = False
    """replace an existing run in ``run_dir`` (its checkpoint, metrics, args and logs) instead of refusing"""
    progress: bool = True
    """show a progress bar"""
    tensorboard: bool | None = None
    """None: log to TensorBoard when it is installed"""
    torch_compile: bool = False
    """run the learner's loss (forward and backward), every acting step and the naive learners' update through
    torch.compile: a minute or more of compiling at the start, then faster iterations (docs/distributed.md);
    reproducible for a fixed device and world size, not bit-equal to eager"""
    torch_threads: int | None = None
    """torch CPU threads during the run: None = auto (1 on a CPU device: measured ~5x faster than torch's
    default on the 2-core machine, see docs/coala.md), 0 = torch's default, N = N threads"""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field (as at construction); the trainers call it again when they start, so
        fields assigned after construction (``args.meta_batch = 0``) get the same clear error."""
        validate_fields(self, ARGS_RULES, cli_label)
        self.history = tuple(self.history)
        if self.resume and self.overwrite:
            raise ValueError("resume (--resume) and overwrite (--overwrite) exclude each other: resume continues the "
                             "run in run_dir, overwrite replaces it")
        self.agent_estimators = tuple(self.agent_estimators)
        bad = [e for e in self.agent_estimators if e not in ESTIMATOR_FLAGS]
        if bad:
            raise ValueError(f"agent_estimators (--agent-estimators) must hold estimators from "
                             f"{sorted(ESTIMATOR_FLAGS)}, got {bad!r}")
        if self.agent_estimators and len(self.agent_estimators) != self.population_size:
            raise ValueError(f"agent_estimators (--agent-estimators) needs one estimator per agent: population_size="
                             f"{self.population_size}, got {len(self.agent_estimators)} estimators")
        if self.p_naive < 1.0 and self.population_size < 2:
            raise ValueError(f"p_naive (--p-naive) = {self.p_naive} < 1 needs population_size (--population-size) "
                             ">= 2 (agents never face themselves)")
        if self.history and self.p_naive < 1.0:
            raise ValueError("history channels are not supported in mixed pools: the agents also act as co-players "
                             "on the plain game observation; use history=() or p_naive=1")
        if self.algorithm == "ppo" and self.meta_batch < self.ppo_nminibatches:
            raise ValueError(f"meta_batch (--meta-batch) = {self.meta_batch} must be >= ppo_nminibatches "
                             f"(--ppo-nminibatches) = {self.ppo_nminibatches}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["history"] = list(self.history)
        return d

    def replace(self, **overrides: Any) -> Args:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown option(s) {unknown}; known: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **overrides)


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    args: Args
    iterations_done: int
    history: list[dict[str, float]]
    """one metrics dict per iteration run in this call"""
    model: PolicyValueModel
    checkpoint: Path | None
    interrupted: bool = False

    @property
    def final(self) -> dict[str, float]:
        return self.history[-1] if self.history else {}



@dataclass
class LolaArgs(Args):
    """:class:`Args` plus the LOLA-DiCE knobs."""

    algo: Annotated[str, tyro.conf.Suppress] = "lola-dice"
    lola_lookahead: int = 1
    """K: differentiable co-player update steps looked ahead"""
    lola_opponent_lr: float = 1.0
    """eta: step size of the modelled co-player update (SGD on its DiCE objective)"""
    lola_objective: Literal["final", "sum"] = "final"
    """look-ahead objective: final (return after the last step) or sum (over all steps)"""
    lola_eval_every: int = 1
    """play a real meta-episode against the pool every this many iterations (for the metrics)"""

    def validate(self) -> None:
        super().validate()
        validate_fields(self, LOLA_RULES, cli_label)
