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

if TYPE_CHECKING:
    from social_dilemmas.models import PolicyValueModel

#: a dict field given as one JSON object on the command line (``--game-kwargs '{"max_steps": 5}'``)
JSONDict = Annotated[dict[str, Any], tyro.constructors.PrimitiveConstructorSpec(
    nargs=1, metavar="JSON", instance_from_str=lambda a: json.loads(a[0]), is_instance=lambda x: isinstance(x, dict),
    str_from_instance=lambda d: [json.dumps(d)])]


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
    """continue from the run directory's checkpoint"""
    progress: bool = True
    """show a progress bar"""
    tensorboard: bool | None = None
    """None: log to TensorBoard when it is installed"""
    torch_compile: bool = False
    """run the learner's loss (forward and backward) through torch.compile: minutes of compiling at the start,
    then a faster PPO update (docs/benchmarks.md); reproducible for a fixed device and world size, not bit-equal
    to eager"""
    torch_threads: int | None = None
    """torch CPU threads during the run: None = auto (1 on a CPU device: measured ~5x faster than torch's
    default on the 2-core machine, see docs/coala.md), 0 = torch's default, N = N threads"""

    def __post_init__(self) -> None:
        self.history = tuple(self.history)
        if self.estimator not in ESTIMATOR_FLAGS:
            raise ValueError(f"estimator must be one of {sorted(ESTIMATOR_FLAGS)}, got {self.estimator!r}")
        if self.algorithm not in ("ppo", "a2c"):
            raise ValueError(f"algorithm must be 'ppo' or 'a2c', got {self.algorithm!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.batch_scaling not in ("sum", "mean"):
            raise ValueError(f"batch_scaling must be 'sum' or 'mean', got {self.batch_scaling!r}")
        for name in ("iterations", "meta_batch", "batch_size", "num_inner_episodes", "population_size",
                     "ppo_nminibatches", "ppo_nepochs", "checkpoint_every", "naive_population_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not 0.0 <= self.p_naive <= 1.0:
            raise ValueError(f"p_naive must lie in [0, 1], got {self.p_naive}")
        if self.p_naive < 1.0 and self.population_size < 2:
            raise ValueError(f"p_naive={self.p_naive} < 1 needs population_size >= 2 (agents never face themselves)")
        if self.history and self.p_naive < 1.0:
            raise ValueError("history channels are not supported in mixed pools: the agents also act as co-players "
                             "on the plain game observation; use history=() or p_naive=1")
        if self.algorithm == "ppo" and self.meta_batch < self.ppo_nminibatches:
            raise ValueError(f"meta_batch={self.meta_batch} must be >= ppo_nminibatches={self.ppo_nminibatches}")
        for name in ("gamma", "td_lambda", "gae_lambda"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {v}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

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

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.lola_lookahead, int) or self.lola_lookahead < 0:
            raise ValueError(f"lola_lookahead must be an int >= 0, got {self.lola_lookahead!r}")
        if self.lola_objective not in ("final", "sum"):
            raise ValueError(f"lola_objective must be 'final' or 'sum', got {self.lola_objective!r}")
        if not self.lola_eval_every >= 1:
            raise ValueError(f"lola_eval_every must be >= 1, got {self.lola_eval_every}")


