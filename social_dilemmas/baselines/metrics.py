"""The paper's metrics of a training iteration, in game units, under stable names.

Every metric is a mean over the global meta-batch. It is computed as a (sum, count) pair per
name, so a data-parallel run sums the pairs over the ranks (one all-reduce) before dividing and
logs the same numbers as one process holding the whole meta-batch.
"""

from __future__ import annotations

import torch

from social_dilemmas.baselines.args import Args
from social_dilemmas.baselines.distributed import World
from social_dilemmas.baselines.rollout import Rollout


class MeanBook:
    """Named (sum, count) pairs; :meth:`means` reduces them over the ranks and divides.

    A name with count 0 everywhere is NaN (e.g. ``reward/vs_agents`` when no slot drew an agent).
    """

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, float] = {}

    def add(self, name: str, x: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        """Book the entries of ``x`` (where ``mask``) under ``name``."""
        if mask is not None:
            x = x[mask.expand_as(x)]
        self.sums[name] = x.detach().double().sum().cpu()
        self.counts[name] = float(x.numel())

    def add_sum(self, name: str, total: float, count: float) -> None:
        self.sums[name] = torch.tensor(float(total), dtype=torch.float64)
        self.counts[name] = float(count)

    def means(self, world: World | None = None, device: torch.device | str = "cpu") -> dict[str, float]:
        world = world or World()
        everyone = set(world.union(self.sums))
        names = [k for k in self.sums if k in everyone] + sorted(everyone - set(self.sums))  # (booking order)
        if not names:
            return {}
        zero = torch.zeros((), dtype=torch.float64)
        flat = torch.stack([torch.stack([self.sums.get(k, zero), torch.tensor(self.counts.get(k, 0.0),
                                                                               dtype=torch.float64)])
                            for k in names])
        flat = world.sum_(flat.to(device)).cpu()
        return {k: float(s / c) if c > 0 else float("nan") for k, (s, c) in zip(names, flat.tolist())}


def rollout_metrics(args: Args, batch: Rollout, world: World | None = None) -> dict[str, float]:
    """The paper's metrics of one iteration, in game units, under stable names.

    ``batch`` may be one rank's share of the meta-batch; ``world`` then reduces every mean over
    the ranks (all of them must call this with the same ``args``).
    """
    world = world or World()
    p_count, mb, b_size, length = batch.shape
    t_len = batch.inner_episode_length
    m_count = length // t_len
    r = batch.rewards
    rc = batch.coplayer_rewards
    naive = batch.is_naive[..., None, None].to(r.device)
    book = MeanBook()
    book.add("reward/ego", r)
    book.add("reward/coplayer", rc)
    # keys depend only on the pool's settings (NaN when no slot of that kind was drawn)
    if args.p_naive > 0:
        book.add("reward/vs_naive", r, naive)
        book.add("reward/naive_coplayer", rc, naive)
    if args.p_naive < 1:
        book.add("reward/vs_agents", r, ~naive)
    if p_count > 1:
        for p in range(p_count):
            book.add(f"agent{p}/reward", r[p])
            if args.p_naive < 1:
                book.add(f"agent{p}/reward_vs_agents", r[p], ~naive[p])
    per_ep = r.view(p_count, mb, b_size, m_count, t_len)
    book.add("reward/ego_first_episode", per_ep[..., 0, :])
    book.add("reward/ego_last_episode", per_ep[..., -1, :])
    two_actions = bool(world.max_(batch.actions.max().reshape(1).clone()).item() <= 1)
    if args.game.lower().startswith(("ipd", "iterated")) or two_actions:
        d = (batch.actions == 1).float()
        book.add("ipd/ego_defect_rate", d)
        dm = d.view(p_count, mb, b_size, m_count, t_len)
        book.add("ipd/ego_defect_rate_first_episode", dm[..., 0, :])
        book.add("ipd/ego_defect_rate_last_episode", dm[..., -1, :])
        if batch.coplayer_actions is not None:
            cd = (batch.coplayer_actions == 1).float()
            book.add("ipd/coplayer_defect_rate", cd)
            cdm = cd.view(p_count, mb, b_size, m_count, t_len)
            book.add("ipd/coplayer_defect_rate_first_episode", cdm[..., 0, :])
            book.add("ipd/coplayer_defect_rate_last_episode", cdm[..., -1, :])
            if args.p_naive > 0:  # the naive co-players alone (a mixed pool also holds agents)
                book.add("ipd/naive_defect_rate_first_episode", cdm[..., 0, :], naive)
                book.add("ipd/naive_defect_rate_last_episode", cdm[..., -1, :], naive)
    for k, v in batch.metrics.items():
        if v.shape[-1] == 2:  # per player: ego (player 0) and co-player
            book.add(f"game/{k}/ego", v[..., 0])
            book.add(f"game/{k}/coplayer", v[..., 1])
            if k == "cleaned":  # paper Fig. 6: |ego - co-player| cleaning per step, per slot
                book.add("game/cleaning_discrepancy", (v[..., 0] - v[..., 1]).abs())
        else:
            book.add(f"game/{k}", v)
    # co-player statistics: per env (agent) over its finite entries, then averaged over the envs
    for k, rows in batch.coplayer_diagnostics.items():
        for e, (s, c) in enumerate(rows.tolist()):
            book.add_sum(f"coplayer/{k}\0{e}", s, c)
    book.add("pool/naive_fraction", batch.is_naive.float())
    means = book.means(world, batch.rewards.device)
    out: dict[str, float] = {}
    per_env: dict[str, list[float]] = {}
    for k, v in means.items():
        if "\0" in k:
            name = k.split("\0")[0]
            per_env.setdefault(name, [])
            if v == v:  # an env with no finite entry does not count
                per_env[name].append(v)
        else:
            out[k] = v
    for name, vals in per_env.items():
        if vals:
            out[name] = sum(vals) / len(vals)
    if "pool/naive_fraction" in out:  # (last, as it always was)
        out["pool/naive_fraction"] = out.pop("pool/naive_fraction")
    return out
