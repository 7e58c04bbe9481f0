"""``as_policy``: turn whatever the user has (a name, a path, an SB3 model, a module) into a benchmark policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from social_dilemmas.benchmark.policy import CallablePolicy, CheckpointPolicy, CoPlayerPolicy
from social_dilemmas.benchmark.references import load_reference, reference_names

__all__ = ["as_policy"]


def as_policy(obj: Any, **kwargs: Any) -> Any:
    """Resolve ``obj`` to a policy.

    * a policy (has ``act`` and ``initial_state``): itself;
    * a string: a shipped reference agent (``"coala-ppo"``, see
      :func:`social_dilemmas.benchmark.references.reference_names`), a path to a checkpoint
      or run directory, a path to a saved Stable-Baselines3 ``.zip``, or a fixed strategy name;
    * a Stable-Baselines3 model: :class:`~social_dilemmas.benchmark.sb3_policy.SB3Policy`;
    * a co-player object (``action_probs``): :class:`CoPlayerPolicy`;
    * a torch module or callable: :class:`CallablePolicy`.
    """
    if hasattr(obj, "act") and hasattr(obj, "initial_state"):
        return obj
    if isinstance(obj, (str, Path)):
        text = str(obj)
        if text in reference_names():
            return load_reference(text, **kwargs)
        path = Path(text)
        if path.suffix == ".zip" and path.exists():
            from social_dilemmas.benchmark.sb3_policy import load_sb3

            return load_sb3(path, **kwargs)
        if path.exists() or path.suffix in (".pt", ".zip") or "/" in text:
            return CheckpointPolicy(path, **kwargs)
        try:
            return CoPlayerPolicy(text, **kwargs)
        except ValueError:
            raise ValueError(
                f"policy {text!r} is neither a reference agent ({', '.join(reference_names())}), an existing "
                "checkpoint / run directory / SB3 .zip, nor a fixed strategy name (e.g. tit_for_tat; gridworld bots: "
                "coin_taker, coin_own_only, cleaner, harvester)"
            ) from None
    if type(obj).__module__.startswith(("stable_baselines3", "sb3_contrib")) or hasattr(obj, "predict") and hasattr(
            obj, "policy"):
        from social_dilemmas.benchmark.sb3_policy import SB3Policy

        return SB3Policy(obj, **kwargs)
    if hasattr(obj, "action_probs"):
        return CoPlayerPolicy(obj, **kwargs)
    if callable(obj) or hasattr(obj, "get_action_and_value"):
        return CallablePolicy(obj, **kwargs)
    raise TypeError(f"cannot score {type(obj).__name__}: give a policy with act()/initial_state(), an SB3 model, "
                    "a torch module or callable returning logits, a checkpoint path or a reference agent name")
