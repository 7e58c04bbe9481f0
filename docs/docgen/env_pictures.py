"""Pictures of the environments drawn by their own renderers: an animated GIF of a short episode
(``rgb_array``), or, for games that only draw text, a PNG of the text rendering of one episode."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

#: frames of an animation (a whole episode of the short games; the first ones of long ones)
MAX_FRAMES = 32
FRAME_MS = 350


def _episode(env_id: str, seed: int, mode: str, frames: int) -> list:
    """Render ``frames`` steps of one episode of uniformly random actions (seeded)."""
    from social_dilemmas.registration import make_batched

    env = make_batched(env_id, batch_size=1)
    env.reset(seed=seed)
    gen = torch.Generator().manual_seed(seed)
    n_actions = env.game.spec.num_actions
    out = [env.game.render(env.state, mode)] if mode == "rgb_array" else []
    for _ in range(min(frames, env.game.max_steps - 1)):  # the last step would show the autoreset start
        actions = torch.randint(0, n_actions, (1, env.game.spec.num_agents), generator=gen)
        env.step(actions)
        out.append(env.game.render(env.state, mode))
    return out


def _gif(frames: list[np.ndarray], scale: int = 2) -> bytes:
    from PIL import Image

    images = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=FRAME_MS, loop=0)
    return buf.getvalue()


def _text_png(text: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = text.rstrip("\n").splitlines()
    width = max(len(ln) for ln in lines)
    fig = plt.figure(figsize=(0.085 * width + 0.4, 0.19 * len(lines) + 0.3))
    fig.text(0.02, 0.98, "\n".join(lines), family="monospace", fontsize=9, va="top")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def picture(env_id: str, out_dir: Path, name: str, seed: int = 0) -> tuple[bytes, str]:
    """(file content, file name) of ``env_id``'s picture: a GIF where the game draws pixels, else a PNG."""
    from social_dilemmas.registration import make_game

    modes = make_game(env_id).render_modes
    if "rgb_array" in modes:
        return _gif(_episode(env_id, seed, "rgb_array", MAX_FRAMES)), f"{name}.gif"
    text = "".join(t if t.endswith("\n") else t + "\n" for t in _episode(env_id, seed, "ansi", MAX_FRAMES))
    return _text_png(text), f"{name}.png"
