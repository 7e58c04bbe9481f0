"""Naive learners: a meta-batch of A2C co-players updated together as one batched computation.

A naive learner (paper §2, Fig. 1B and App. B.2) plays with a policy that only sees the current inner episode
(its memory is reset at every inner-episode boundary) and, after every batch of ``B`` finished
inner episodes, takes **one** A2C gradient step on them:

* Monte-Carlo returns within the inner episode, ``G_t = sum_{k>=t} gamma^(k-t) r_k`` with
  ``r = reward_rescaling * reward``, no bootstrapping (the episode ends at ``T``);
* advantages ``G_t - V(x_t)``, normalised per learner (mean 0, std 1 over its ``B x T``
  entries) when ``normalize_advantages``;
* loss per learner ``-mean(log pi(a|x) * adv) + value_coef * 0.5 * mean((V - G)^2)
  - entropy_coef * mean(entropy)`` (the CleanRL convention: the squared error carries a 1/2);
* the gradient of each learner is clipped to global norm ``max_grad_norm`` **per learner**
  (as ``torch.nn.utils.clip_grad_norm_`` would on that learner alone), then Adam (or SGD)
  steps elementwise on the stacked parameters — exactly independent Adams, one per learner.

Defaults are the paper's Table 8 (:data:`NAIVE_PRESETS`): A2C, gamma 0.99, advantage
normalisation, reward rescaling 0.05 (IPD) / 0.1 (CleanUp), value coefficient 0.5, entropy 0,
Adam lr 0.005 eps 1e-5, max grad norm 1.0; Hawk networks (any :func:`make_model` kind works).

All ``meta_batch`` learners are ONE population model (``P = meta_batch``, see
:mod:`social_dilemmas.models`): acting is one batched step, the update is one sequence-mode
forward over ``[P, B, T]`` plus one backward pass; the loss is the *sum* of the per-learner
losses, so each member's gradient is exactly its own learner's gradient.

Initialisation (paper App. B.2.2): ``population_size`` (paper: 10) static initial parameter
sets are built once from ``init_seed`` (member ``i`` from ``init_seed + i``). At every
meta-episode start each slot draws one of them uniformly with its own counter-based random
numbers, and the optimiser state is re-created (fresh Adam moments for every fresh naive
opponent — the paper does not say; we choose the natural reading). Dynamic naive agents
(copies of current trained agents) are set with :meth:`NaiveLearner.set_initial_population`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from social_dilemmas.coplayers.base import SlotModelPolicy
from social_dilemmas.core.rng import RNG, SEED_LIMIT
from social_dilemmas.core.validation import (
    MAX_BATCH,
    MAX_HIDDEN,
    Flag,
    Float,
    Int,
    Maybe,
    NonFiniteError,
    OneOf,
    Rule,
    check_positive_int,
    validate_fields,
)
from social_dilemmas.models import MODEL_KINDS, PolicyValueModel, make_model
from social_dilemmas.models.population import copy_members_, member_view, population_like

__all__ = [
    "NAIVE_INIT_STREAM",
    "NAIVE_PRESETS",
    "BatchedOptimizer",
    "InnerEpisodeBatch",
    "NaiveConfig",
    "NaiveLearner",
    "a2c_losses",
    "default_naive_config",
    "discounted_returns",
]

#: Random stream (of the meta-env's per-slot RNG) from which a slot draws its naive init.
NAIVE_INIT_STREAM = 300


@dataclass(frozen=True)
class InnerEpisodeBatch:
    """The ``B`` just-finished inner episodes of every meta-batch slot, from the co-player's side.

    Attributes:
        obs: ``[meta_batch, B, T, *obs_shape]`` the co-player's own observations.
        actions: ``[meta_batch, B, T]`` int64 co-player actions.
        rewards: ``[meta_batch, B, T]`` float32 co-player rewards (unscaled).
        ego_actions: ``[meta_batch, B, T]`` the ego's actions (diagnostics only).
        ego_rewards: ``[meta_batch, B, T]`` the ego's rewards (diagnostics only).
        index: which inner episode (0-based ``m``) of the meta-episode this is.

    The tensors are views of the meta-environment's rollout buffers, overwritten during the
    next inner episode: copy what you want to keep.
    """

    obs: Tensor
    actions: Tensor
    rewards: Tensor
    ego_actions: Tensor | None = None
    ego_rewards: Tensor | None = None
    index: int = 0


@dataclass(frozen=True)
class NaiveConfig:
    """Hyperparameters of a naive learner (defaults: paper Table 8, IPD).

    Attributes:
        model: network kind for :func:`~social_dilemmas.models.make_model` (``"hawk"``,
            ``"gru"``, ``"mlp"``, ``"tabular"``).
        hidden: network width (paper: 32).
        model_kwargs: extra architecture options passed to ``make_model``.
        population_size: number of static initial parameter sets (paper: 10).
        init_seed: seed of the static initial parameter sets (member ``i`` uses ``init_seed + i``).
        optimizer: ``"adam"`` or ``"sgd"``.
        learning_rate, adam_eps, adam_betas: optimiser settings.
        discount: ``gamma`` of the Monte-Carlo returns within an inner episode.
        reward_rescaling: rewards are multiplied by this before computing returns.
        value_coef: weight of the value loss (``0.5 * MSE``).
        entropy_coef: weight of the entropy bonus.
        max_grad_norm: per-learner global gradient-norm clip (``None``: no clipping).
        normalize_advantages: normalise advantages per learner.
        update_block: a memory knob, not a hyperparameter: the update's forward and backward
            run over blocks of this many learners at a time, so its activations take
            ``update_block / meta_batch`` of the memory (same result to float round-off).
            ``None`` (default): all learners at once. At the paper's IPD scale on a CPU blocks
            brought no speed (``benchmarks/bench_meta_env.py --update-blocks``); they matter
            where ``meta_batch x B x T`` activations do not fit, e.g. CleanUp at paper scale.
        torch_compile: a speed knob: run the acting step and the update's forward and backward
            through ``torch.compile`` (compiled on first use; reproducible for a fixed device,
            not bit-equal to eager).
    """

    model: str = "hawk"
    hidden: int = 32
    model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    population_size: int = 10
    init_seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 0.005
    adam_eps: float = 1e-5
    adam_betas: tuple[float, float] = (0.9, 0.999)
    discount: float = 0.99
    reward_rescaling: float = 0.05
    value_coef: float = 0.5
    entropy_coef: float = 0.0
    max_grad_norm: float | None = 1.0
    normalize_advantages: bool = True
    update_block: int | None = None
    torch_compile: bool = False

    def __post_init__(self) -> None:
        validate_fields(self, NAIVE_CONFIG_RULES)
        if not isinstance(self.model_kwargs, Mapping):
            raise TypeError(f"model_kwargs must be a dict of make_model options, got {self.model_kwargs!r}")
        betas = self.adam_betas
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {betas!r}")
        object.__setattr__(self, "adam_betas", (_BETA("adam_betas[0]", betas[0]), _BETA("adam_betas[1]", betas[1])))

    def replace(self, **overrides: Any) -> NaiveConfig:
        """A copy with ``overrides``; unknown names raise a ``TypeError`` listing the fields."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown naive-learner option(s) {unknown}; known: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **overrides)


_BETA = Float(0.0, 1.0, high_open=True)
#: What every :class:`NaiveConfig` field accepts (checked on construction and on ``replace``).
NAIVE_CONFIG_RULES: dict[str, Rule] = {
    "model": OneOf(tuple(sorted(MODEL_KINDS))),
    "hidden": Int(1, MAX_HIDDEN),
    "population_size": Int(1, MAX_BATCH),
    "init_seed": Int(0, SEED_LIMIT - 1),
    "optimizer": OneOf(("adam", "sgd")),
    "learning_rate": Float(0.0, low_open=True),
    "adam_eps": Float(0.0),
    "discount": Float(0.0, 1.0),
    "reward_rescaling": Float(0.0),
    "value_coef": Float(0.0),
    "entropy_coef": Float(0.0),
    "max_grad_norm": Maybe(Float(0.0, low_open=True)),
    "normalize_advantages": Flag(),
    "update_block": Maybe(Int(1, MAX_BATCH)),
    "torch_compile": Flag(),
}


#: The paper's Table 8 columns (IPD shaping and mixed share one column).
NAIVE_PRESETS: dict[str, NaiveConfig] = {
    "ipd": NaiveConfig(),
    "cleanup-shaping": NaiveConfig(reward_rescaling=0.1),
    "cleanup-mixed": NaiveConfig(reward_rescaling=0.1, discount=1.0, optimizer="sgd", learning_rate=1.0),
}


def default_naive_config(game: str | None = None) -> NaiveConfig:
    """Table 8 defaults for ``game``: the CleanUp shaping column for CleanUp ids, else the IPD one."""
    if game is not None and "cleanup" in game.lower():
        return NAIVE_PRESETS["cleanup-shaping"]
    return NAIVE_PRESETS["ipd"]


# ----------------------------------------------------------------------------- the maths


def _forward_losses(model: PolicyValueModel, obs: Tensor, actions: Tensor, rewards: Tensor,
                    config: NaiveConfig) -> dict[str, Tensor]:
    """A sequence-mode forward of ``model`` on finished episodes and their :func:`a2c_losses`."""
    logits, values, _ = model(obs)
    return a2c_losses(logits, values, actions, rewards, config)


@functools.cache
def _compiled_forward_losses() -> Callable[..., dict[str, Tensor]]:
    """:func:`_forward_losses` through ``torch.compile`` (made once per process)."""
    return torch.compile(_forward_losses)


def discounted_returns(rewards: Tensor, discount: float) -> Tensor:
    """``G_t = sum_{k >= t} discount^(k - t) r_k`` along the last dim (no bootstrapping).

    Vectorised as one matmul with the ``[T, T]`` discount matrix.
    """
    t = rewards.shape[-1]
    ar = torch.arange(t, device=rewards.device)
    expo = (ar.view(-1, 1) - ar.view(1, -1)).to(rewards.dtype)  # [k, t] = k - t
    base = torch.as_tensor(discount, dtype=rewards.dtype, device=rewards.device)
    zero = torch.zeros((), dtype=rewards.dtype, device=rewards.device)
    gamma = torch.where(expo >= 0, base ** expo.clamp(min=0), zero)
    return rewards @ gamma


def a2c_losses(
    logits: Tensor, values: Tensor, actions: Tensor, rewards: Tensor, config: NaiveConfig
) -> dict[str, Tensor]:
    """Per-learner A2C losses of the naive learners.

    Args:
        logits: ``[P, B, T, A]``, values ``[P, B, T]``, actions ``[P, B, T]``, rewards
            ``[P, B, T]`` (unscaled).

    Returns:
        ``{"loss", "policy_loss", "value_loss", "entropy", "return"}``, each ``[P]``; ``loss``
        is differentiable, the others are detached.
    """
    p = logits.shape[0]
    returns = discounted_returns(rewards * config.reward_rescaling, config.discount)
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    adv = (returns - values).detach().reshape(p, -1)
    if config.normalize_advantages:
        adv = (adv - adv.mean(1, keepdim=True)) / (adv.std(1, correction=0, keepdim=True) + 1e-8)
    policy_loss = -(logp.reshape(p, -1) * adv).mean(1)
    value_loss = 0.5 * (values - returns).pow(2).reshape(p, -1).mean(1)
    ent = entropy.reshape(p, -1).mean(1)
    loss = policy_loss + config.value_coef * value_loss - config.entropy_coef * ent
    return {
        "loss": loss,
        "policy_loss": policy_loss.detach(),
        "value_loss": value_loss.detach(),
        "entropy": ent.detach(),
        "return": rewards.sum(-1).mean(1).detach(),
    }


class BatchedOptimizer:
    """Adam or SGD over stacked ``[P, ...]`` parameters: ``P`` independent optimisers in one.

    Each member has its own step count, first and second moments and gradient-norm clip, so
    the result equals running ``torch.optim.Adam`` (or ``SGD``) with
    ``torch.nn.utils.clip_grad_norm_`` separately on every member (tested). ``active [P]``
    restricts a step to some members (the others keep parameters and optimiser state).

    For speed the optimiser state lives in flat ``[P, K]`` buffers (``K`` = parameters per
    member): a step is one concatenation of the gradients, a handful of elementwise ops on
    ``[P, K]`` and one fused in-place add into the parameters.
    """

    def __init__(self, params: list[Tensor], config: NaiveConfig) -> None:
        self.params = params
        self.config = config
        self.population = params[0].shape[0]
        self._sizes = [p[0].numel() for p in params]
        self.reset()

    def flat_buffer(self) -> Tensor:
        """An uninitialised ``[P, K]`` gradient buffer in the layout :meth:`step` expects."""
        return torch.empty_like(self.exp_avg)

    def reset(self, mask: Tensor | None = None) -> None:
        """Fresh optimiser state (for all members, or where ``mask [P]``)."""
        dev, dt = self.params[0].device, self.params[0].dtype
        if mask is None or not hasattr(self, "step_count"):
            k = sum(self._sizes)
            self.step_count = torch.zeros(self.population, dtype=torch.int64, device=dev)
            self.exp_avg = torch.zeros(self.population, k, dtype=dt, device=dev)
            self.exp_avg_sq = torch.zeros(self.population, k, dtype=dt, device=dev)
            return
        mask = mask.to(dev)
        self.step_count = torch.where(mask, torch.zeros_like(self.step_count), self.step_count)
        self.exp_avg.masked_fill_(mask.unsqueeze(1), 0.0)
        self.exp_avg_sq.masked_fill_(mask.unsqueeze(1), 0.0)

    @torch.no_grad()
    def step(self, grads: list[Tensor] | Tensor, active: Tensor | None = None) -> Tensor:
        """Clip per member, then update. Returns the pre-clip gradient norms ``[P]``.

        ``grads`` is one gradient per parameter, or all of them already flattened into a
        ``[P, K]`` tensor (see :meth:`flat_buffer`; it is overwritten). Works in place on the
        flat ``[P, K]`` buffers (a fresh ``[P, K]`` temporary per elementwise op cost about as
        much as the ops themselves).
        """
        cfg = self.config
        p_ = self.population
        # [P, K], a buffer we own and may overwrite
        g = grads if isinstance(grads, Tensor) else torch.cat([x.reshape(p_, -1) for x in grads], dim=1)
        norms = torch.linalg.vector_norm(g, dim=1)
        if cfg.max_grad_norm is not None:
            g.mul_((cfg.max_grad_norm / (norms + 1e-6)).clamp(max=1.0).unsqueeze(1))
        if active is not None:
            active = active.to(device=g.device, dtype=torch.bool)
        if cfg.optimizer == "sgd":
            delta = g.mul_(-cfg.learning_rate)
        else:
            b1, b2 = cfg.adam_betas
            step = self.step_count + 1 if active is None else self.step_count + active.long()
            stepf = step.to(torch.float64).clamp(min=1)
            step_size = (cfg.learning_rate / (1.0 - b1**stepf)).to(g.dtype).unsqueeze(1)
            bc2_sqrt = (1.0 - b2**stepf).sqrt().to(g.dtype).unsqueeze(1)
            if active is None:
                m = self.exp_avg.lerp_(g, 1.0 - b1)
                v = self.exp_avg_sq.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            else:
                m = self.exp_avg.lerp(g, 1.0 - b1)
                v = (self.exp_avg_sq * b2).addcmul_(g, g, value=1.0 - b2)
                a = active.unsqueeze(1)
                self.exp_avg = torch.where(a, m, self.exp_avg)
                self.exp_avg_sq = torch.where(a, v, self.exp_avg_sq)
            # delta = m / (sqrt(v) / bc2_sqrt + eps) * -step_size, reusing g's buffer
            denom = torch.sqrt(v, out=g).div_(bc2_sqrt).add_(cfg.adam_eps)
            delta = torch.div(m, denom, out=denom).mul_(-step_size)
            self.step_count = step
        if active is not None:
            delta.mul_(active.unsqueeze(1).to(delta.dtype))
        parts = [d.view(p.shape) for d, p in zip(delta.split(self._sizes, dim=1), self.params)]
        torch._foreach_add_(self.params, parts)
        return norms


# ----------------------------------------------------------------------------- the co-player


class NaiveLearner(SlotModelPolicy):
    """``meta_batch`` naive A2C learners, one per meta-batch slot, as one population model.

    Args:
        obs_dim: size of the co-player's (flat) observation.
        num_actions: number of actions.
        meta_batch: number of learners (meta-batch slots); ``P`` of the model.
        config: a :class:`NaiveConfig` (default: Table 8, IPD); ``overrides`` replace fields.
        device: where parameters and optimiser state live.

    Attributes:
        model: the acting/learning population model (``P = meta_batch``).
        init_model: the initial parameter sets (``P = population_size`` for static inits).
        init_choice: ``[meta_batch]`` which initial set each slot started this meta-episode from.
        num_updates: ``[meta_batch]`` updates applied to each slot this meta-episode.
    """

    resets_at_inner_boundary = True
    kind = "naive"

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        meta_batch: int,
        config: NaiveConfig | None = None,
        *,
        device: torch.device | str = "cpu",
        **overrides: Any,
    ) -> None:
        cfg = config if config is not None else NaiveConfig()
        if not isinstance(cfg, NaiveConfig):
            raise TypeError(f"config must be a NaiveConfig, got {type(cfg).__name__}")
        self.config = cfg.replace(**overrides) if overrides else cfg
        self.obs_dim = check_positive_int("obs_dim", obs_dim)
        self.num_actions = check_positive_int("num_actions", num_actions)
        self.meta_batch = check_positive_int("meta_batch", meta_batch, MAX_BATCH)
        c = self.config
        self.init_model: PolicyValueModel = make_model(
            c.model, self.obs_dim, self.num_actions, population=c.population_size, hidden=c.hidden,
            seed=c.init_seed, device=device, **dict(c.model_kwargs),
        ).requires_grad_(False)
        self.init_choice = torch.arange(self.meta_batch, dtype=torch.int64) % c.population_size
        self.model: PolicyValueModel = population_like(self.init_model, self.meta_batch, self.init_choice)
        self.model.requires_grad_(True)
        self.model.compile_step = self.config.torch_compile
        self._names = self.model.param_names()
        self._params = [getattr(self.model, n) for n in self._names]
        self.optimizer = BatchedOptimizer(self._params, self.config)
        self._views: list[tuple[int, int, PolicyValueModel]] = []
        self._views_key: tuple | None = None
        self.num_updates = torch.zeros(self.meta_batch, dtype=torch.int64)

    @property
    def device(self) -> torch.device:
        return self.model.device

    # -- initial parameters ----------------------------------------------------------------

    def set_initial_population(self, source: PolicyValueModel, members: Any = None) -> None:
        """Use members of ``source`` (e.g. current trained agents: *dynamic* naive agents) as the inits.

        ``members`` selects which (default: all). ``source`` must have the learner's architecture.
        """
        if members is None:
            idx = torch.arange(source.population)
        else:
            idx = torch.as_tensor(members, dtype=torch.int64).reshape(-1)
        if idx.numel() == 0:
            raise ValueError("the initial population must not be empty")
        pop = population_like(source, idx.numel(), idx).to(self.device).requires_grad_(False)
        if pop.param_names() != self.model.param_names():
            raise ValueError(f"source architecture {source.kind} does not match the naive learner's {self.model.kind}")
        self.init_model = pop

    @property
    def population_size(self) -> int:
        """Number of initial parameter sets slots draw from."""
        return self.init_model.population

    def begin_meta_episode(self, slot_rng: RNG | None = None, mask: Tensor | None = None) -> None:
        """A fresh naive opponent in every slot (where ``mask``): draw an init, reset Adam.

        ``slot_rng`` is the meta-environment's per-slot random state (batch = meta_batch); slot
        ``j`` draws ``floor(u_j * population_size)`` from its own stream
        :data:`NAIVE_INIT_STREAM`. Without it, slot ``j`` takes init ``j % population_size``.
        """
        if slot_rng is None:
            choice = torch.arange(self.meta_batch, dtype=torch.int64) % self.population_size
        else:
            u = slot_rng.uniform(NAIVE_INIT_STREAM)
            choice = (u * self.population_size).long().clamp_(max=self.population_size - 1).cpu()
        copy_members_(self.model, self.init_model, choice.to(self.init_model.device), mask)
        self.optimizer.reset(None if mask is None else mask.to(self.device))
        if mask is None:
            self.init_choice = choice
            self.num_updates = torch.zeros(self.meta_batch, dtype=torch.int64)
        else:
            m = mask.cpu()
            self.init_choice = torch.where(m, choice, self.init_choice)
            self.num_updates = torch.where(m, torch.zeros_like(self.num_updates), self.num_updates)

    # -- learning --------------------------------------------------------------------------

    def losses(self, episodes: InnerEpisodeBatch) -> dict[str, Tensor]:
        """Per-learner A2C losses on ``episodes`` (sequence-mode forward, fresh memory)."""
        obs = self._check_episodes(episodes)
        logits, values, _ = self.model(obs)
        return a2c_losses(logits, values, episodes.actions, episodes.rewards, self.config)

    def update(self, episodes: InnerEpisodeBatch, active: Tensor | None = None) -> dict[str, Tensor]:
        """One A2C step per learner on its ``B`` finished episodes (only slots where ``active``).

        Returns per-learner diagnostics ``[meta_batch]``: ``loss``, ``policy_loss``,
        ``value_loss``, ``entropy``, ``return`` (mean undiscounted episode return),
        ``grad_norm`` (before clipping), ``coop_rate`` (fraction of action 0 played).
        """
        obs = self._check_episodes(episodes)
        weight = None if active is None else active.to(device=obs.device, dtype=obs.dtype)
        flat = self.optimizer.flat_buffer()
        parts: list[dict[str, Tensor]] = []
        forward = _compiled_forward_losses() if self.config.torch_compile else _forward_losses
        for start, stop, view in self._update_blocks():
            out = forward(view, obs[start:stop], episodes.actions[start:stop], episodes.rewards[start:stop],
                          self.config)
            loss = out["loss"]
            total = (loss * weight[start:stop]).sum() if weight is not None else loss.sum()
            params = [getattr(view, n) for n in self._names]
            grads = torch.autograd.grad(total, params, allow_unused=True)
            torch.cat([(torch.zeros_like(p) if g is None else g).reshape(stop - start, -1)
                       for p, g in zip(params, grads)], dim=1, out=flat[start:stop])
            parts.append({k: v.detach() for k, v in out.items()})
        norms = self.optimizer.step(flat, active)
        self._check_health(norms, active)
        self.num_updates += 1 if active is None else active.cpu().long()
        diag = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        diag["grad_norm"] = norms
        diag["coop_rate"] = (episodes.actions == 0).float().reshape(self.meta_batch, -1).mean(1)
        return diag

    def _check_health(self, norms: Tensor, active: Tensor | None) -> None:
        """Raise :class:`NonFiniteError` at the first update that leaves a gradient or parameter non-finite."""
        p = self.meta_batch
        # fast path: one norm per parameter tensor (a huge finite norm only sends us to the exact check)
        if bool(torch.isfinite(torch.stack([*torch._foreach_norm(self._params), norms.sum()])).all()):
            return
        ok = torch.isfinite(norms)
        for param in self._params:
            ok &= torch.isfinite(param.detach().reshape(p, -1)).all(1)
        if active is not None:
            ok |= ~active.to(device=ok.device, dtype=torch.bool)
        if bool(ok.all()):
            return
        slots = (~ok).nonzero().view(-1).tolist()
        c = self.config
        raise NonFiniteError(
            f"a naive co-player update made the gradients or parameters non-finite in meta-batch slot(s) "
            f"{slots[:8]}{' ...' if len(slots) > 8 else ''} of {p} (update {int(self.num_updates.max()) + 1} of "
            f"this meta-episode); co-player configuration: model={c.model!r}, optimizer={c.optimizer!r}, "
            f"learning_rate={c.learning_rate:g}, reward_rescaling={c.reward_rescaling:g}, "
            f"max_grad_norm={c.max_grad_norm}, discount={c.discount:g}. Lower learning_rate or reward_rescaling."
        )

    def _check_episodes(self, episodes: InnerEpisodeBatch) -> Tensor:
        obs = episodes.obs
        p, b, t = obs.shape[:3]
        if p != self.meta_batch:
            raise ValueError(f"episodes hold {p} meta-batch slots, the learner has {self.meta_batch}")
        return obs.reshape(p, b, t, -1)

    def _update_blocks(self) -> list[tuple[int, int, PolicyValueModel]]:
        """``(start, stop, view)`` blocks of learners for the update (see ``NaiveConfig.update_block``)."""
        p = self.meta_batch
        block = p if self.config.update_block is None else min(self.config.update_block, p)
        # balanced blocks: ceil(p / block) of nearly equal size
        n = -(-p // block)
        bounds = [round(k * p / n) for k in range(n + 1)]
        key = (tuple(bounds), getattr(self.model, self._names[0]).data_ptr())
        if self._views_key != key:
            self._views = [(a, b, self.model if (a, b) == (0, p) else member_view(self.model, a, b))
                           for a, b in zip(bounds[:-1], bounds[1:])]
            self._views_key = key
        return self._views

    def __repr__(self) -> str:
        c = self.config
        return (f"NaiveLearner({c.model}, meta_batch={self.meta_batch}, population_size={self.population_size}, "
                f"{c.optimizer} lr={c.learning_rate:g}, gamma={c.discount:g}, reward_rescaling={c.reward_rescaling:g})")
