"""The API reference: one page per sub-package, one mkdocstrings block per public module."""

from __future__ import annotations

import pkgutil
from pathlib import Path

from docgen.common import NavEntry, write_if_changed

#: sub-package -> one line for the index (in nav order); modules starting with "_" stay private.
SECTIONS: dict[str, str] = {
    "social_dilemmas": "the top-level package: registration, batched construction, reproduction registry",
    "social_dilemmas.core": "the batched functional core: games, steps, RNG, state trees, validation",
    "social_dilemmas.envs": "the games and their PettingZoo-style modules",
    "social_dilemmas.adapters": "Gymnasium, PettingZoo and SB3 faces",
    "social_dilemmas.wrappers": "the batched co-player shaping meta-environment and history channels",
    "social_dilemmas.coplayers": "fixed strategies, naive learners, frozen agents, opponent pools",
    "social_dilemmas.models": "population-batched policy/value networks",
    "social_dilemmas.baselines": "COALA-PPO and the baselines: settings, presets, trainers, estimators",
    "social_dilemmas.analytic": "the exact IPD toolkit",
    "social_dilemmas.testing": "shipped checkers for environments",
    "social_dilemmas.cli": "the social-dilemmas command",
}

#: top-level modules documented on the first page (sub-packages have their own)
TOP_MODULES = ("social_dilemmas.registration", "social_dilemmas.reproduce", "social_dilemmas.bench")


def public_modules(package: str) -> list[str]:
    """``package`` and its public direct sub-modules (not sub-packages), sorted."""
    import importlib

    pkg = importlib.import_module(package)
    if package == "social_dilemmas":
        return [package, *TOP_MODULES]
    mods = [package]
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_") and not info.ispkg:
            mods.append(f"{package}.{info.name}")
    return sorted(mods, key=lambda m: (m != package, m))


def _page(package: str) -> str:
    blocks = [f"# `{package}`", "", SECTIONS[package].capitalize() + ".", ""]
    for mod in public_modules(package):
        blocks += [f"::: {mod}", "    options:", "      heading_level: 2", ""]
    return "\n".join(blocks)


def generate(docs_dir: Path) -> NavEntry:
    """Write ``api/`` (an index and one page per section); return the nav entry."""
    out = docs_dir / "api"
    index = ["# API reference", "", "Generated from the docstrings of the public modules.", "",
             "| package | what |", "|---|---|"]
    nav: list[NavEntry] = [{"Overview": "api/index.md"}]
    for package, what in SECTIONS.items():
        slug = package.replace(".", "_")
        write_if_changed(out / f"{slug}.md", _page(package))
        index.append(f"| [`{package}`]({slug}.md) | {what} |")
        nav.append({package: f"api/{slug}.md"})
    write_if_changed(out / "index.md", "\n".join(index) + "\n")
    return {"API reference": nav}
