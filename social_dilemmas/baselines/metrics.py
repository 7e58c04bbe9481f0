"""The paper's metrics of a training iteration, in game units, under stable names."""

from __future__ import annotations

from social_dilemmas.baselines.args import Args
from social_dilemmas.baselines.rollout import Rollout


def rollout_metrics(args: Args, batch: Rollout) -> dict[str, float]:
    """The paper's metrics of one iteration, in game units, under stable names."""
    p_count, mb, b_size, length = batch.shape
    t_len = batch.inner_episode_length
    m_count = length // t_len
    r = batch.rewards.float()
    rc = batch.coplayer_rewards.float()
    naive = batch.is_naive[..., None, None].expand_as(r)
    out: dict[str, float] = {
        "reward/ego": float(r.mean()),
        "reward/coplayer": float(rc.mean()),
    }
    # keys depend only on the pool's settings (NaN when no slot of that kind was drawn)
    nan = float("nan")
    if args.p_naive > 0:
        out["reward/vs_naive"] = float(r[naive].mean()) if bool(naive.any()) else nan
        out["reward/naive_coplayer"] = float(rc[naive].mean()) if bool(naive.any()) else nan
    if args.p_naive < 1:
        out["reward/vs_agents"] = float(r[~naive].mean()) if bool((~naive).any()) else nan
    for p in range(p_count):
        if p_count > 1:
            out[f"agent{p}/reward"] = float(r[p].mean())
    per_ep = r.view(p_count, mb, b_size, m_count, t_len).mean((0, 1, 2, 4))
    out["reward/ego_first_episode"] = float(per_ep[0])
    out["reward/ego_last_episode"] = float(per_ep[-1])
    if args.game.lower().startswith(("ipd", "iterated")) or batch.actions.max() <= 1:
        d = (batch.actions == 1).float()
        out["ipd/ego_defect_rate"] = float(d.mean())
        dm = d.view(p_count, mb, b_size, m_count, t_len)
        out["ipd/ego_defect_rate_first_episode"] = float(dm[..., 0, :].mean())
        out["ipd/ego_defect_rate_last_episode"] = float(dm[..., -1, :].mean())
        if batch.coplayer_actions is not None:
            cd = (batch.coplayer_actions == 1).float()
            out["ipd/coplayer_defect_rate"] = float(cd.mean())
            cdm = cd.view(p_count, mb, b_size, m_count, t_len)
            out["ipd/coplayer_defect_rate_first_episode"] = float(cdm[..., 0, :].mean())
            out["ipd/coplayer_defect_rate_last_episode"] = float(cdm[..., -1, :].mean())
            if args.p_naive > 0:  # the naive co-players alone (a mixed pool also holds agents)
                nd = cdm[batch.is_naive]  # [naive slots, B, M, T]
                has = nd.numel() > 0
                out["ipd/naive_defect_rate_first_episode"] = float(nd[..., 0, :].mean()) if has else nan
                out["ipd/naive_defect_rate_last_episode"] = float(nd[..., -1, :].mean()) if has else nan
    for k, v in batch.metrics.items():
        if v.shape[-1] == 2:  # per player: ego (player 0) and co-player
            out[f"game/{k}/ego"] = float(v[..., 0].mean())
            out[f"game/{k}/coplayer"] = float(v[..., 1].mean())
            if k == "cleaned":  # paper Fig. 6: |ego - co-player| cleaning per step, per slot
                out["game/cleaning_discrepancy"] = float((v[..., 0] - v[..., 1]).abs().mean())
        else:
            out[f"game/{k}"] = float(v.mean())
    for k, v in batch.coplayer_diagnostics.items():
        out[f"coplayer/{k}"] = v
    out["pool/naive_fraction"] = float(batch.is_naive.float().mean())
    return out

