"""One page per registered environment, from its module docstring, plus what the code knows:
a picture drawn by the game's own renderer, the arguments with their defaults and the
version history as a table."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from pathlib import Path
from typing import Any

from docgen.common import NavEntry, to_markdown, write_if_changed
from docgen.env_pictures import picture

VERSION_BLOCK = re.compile(r"\*\*Version history\.\*\*\s*\n((?:[-*] .*\n?(?:  +.*\n?)*)+)")
#: constructor arguments the registry fixes (not a user's knob)
HIDDEN_ARGS = ("name",)


def _module_doc(module: str) -> str:
    origin = importlib.util.find_spec(module).origin  # read, don't import: no side effects
    return (ast.get_docstring(ast.parse(Path(origin).read_text())) or "").strip()


def _cell(text: str) -> str:
    return " ".join(to_markdown(text).split()).replace("|", "\\|")


def version_table(doc: str) -> str:
    """Replace the ``**Version history.**`` bullet list (``- vN: change``) by a table."""

    def table(m: re.Match) -> str:
        rows = []
        for item in re.split(r"\n(?=[-*] )", m.group(1).strip()):
            text = " ".join(item[2:].split())
            version, _, change = text.partition(":")
            rows.append(f"| `{version.strip()}` | {_cell(change.strip())} |")
        return "## Version history\n\n| version | change |\n|---|---|\n" + "\n".join(rows) + "\n"

    return VERSION_BLOCK.sub(table, doc)


def _param_docs(cls: type) -> dict[str, str]:
    import docstring_parser

    docs = {}
    for source in (cls.__doc__, cls.__init__.__doc__):
        if source:
            for p in docstring_parser.parse(source).params:
                for name in p.arg_name.split(","):  # "a, b: shared meaning"
                    docs[name.strip()] = p.description or ""
    return docs


def _default(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return "required"
    return f"`{value!r}`" if not hasattr(value, "name") else f"`{value.name!r}`"


def arguments_table(entry: Any) -> str:
    """Keyword arguments of ``gym.make`` / ``make_batched`` for this id, with the registry's defaults."""
    module, _, cls_name = entry.core.partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    docs = _param_docs(cls)
    rows = [f"| `opponent` | `{entry.default_opponent!r}` | co-player of the single-agent Gymnasium view "
            "(`gym.make` only): a fixed strategy name, `\"random\"`, or a co-player object |"]
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or name in HIDDEN_ARGS or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        default = entry.kwargs.get(name, p.default)
        rows.append(f"| `{name}` | {_default(default)} | {_cell(docs.get(name, ''))} |")
    return ("## Arguments\n\nKeyword arguments of `gym.make(\"" + entry.full_id + "\", ...)`, the PettingZoo "
            "`parallel_env(...)` / `env(...)` and `social_dilemmas.make_batched(\"" + entry.id + "\", ...)`, "
            "with this id's defaults:\n\n| argument | default | meaning |\n|---|---|---|\n" + "\n".join(rows) + "\n")


def _legend(entry: Any) -> str:
    from social_dilemmas.registration import make_game

    legend = getattr(make_game(entry.id), "render_legend", ())
    if not legend:
        return ""
    swatch = '<span style="display:inline-block;width:1em;height:1em;background:rgb{};border:1px solid #888"></span>'
    return "\n" + " &nbsp; ".join(f"{swatch.format(tuple(c))} {text}" for c, text in legend) + "\n"


def env_page(entry: Any, img_dir: Path) -> str:
    """The Markdown page of one registry entry (writes its picture into ``img_dir``)."""
    doc = _module_doc(entry.module)
    if not doc:
        raise SystemExit(f"{entry.module} has no docstring: its documentation page would be empty")
    title, _, body = doc.partition("\n")
    name = entry.module.rsplit(".", 1)[1]
    data, file_name = picture(entry.id, img_dir, name)
    write_if_changed(img_dir / file_name, data)
    kind = "an episode with random actions" if file_name.endswith(".gif") else "the text rendering of an episode"
    figure = (f"![{entry.id}: {kind}](img/{file_name})\n\n*{entry.id}, {kind} (drawn by the game's own "
              f"renderer when these docs were built).*\n" + _legend(entry))
    body = version_table(to_markdown(body))
    # the picture goes after the first paragraph, the arguments before the version history
    intro, sep, rest = body.strip("\n").partition("\n\n")
    args = arguments_table(entry)
    if "## Version history" in rest:
        before, _, after = rest.partition("## Version history")
        rest = before + args + "\n## Version history" + after
    else:
        rest = rest + "\n\n" + args
    return f"# {to_markdown(title.strip())}\n\n{intro}\n\n{figure}\n{rest.strip()}\n"


def generate(docs_dir: Path) -> NavEntry:
    """Write ``envs/`` (an index, one page and one picture per id); return the nav entry."""
    import social_dilemmas  # noqa: F401  (registers the ids)
    from social_dilemmas.registration import REGISTRY

    out = docs_dir / "envs"
    index = ["# Environments", "", "Every id below is registered when `import social_dilemmas` runs; each page "
             "shows the game drawn by its own renderer, its arguments with their defaults and its version history.",
             "", "| id | description |", "|---|---|"]
    nav: list[NavEntry] = [{"Overview": "envs/index.md"}]
    meta_modules = {e.module for e in REGISTRY.values() if getattr(e, "kind", "game") != "game"}
    for module in sorted(meta_modules):  # the shaping meta-environments: one page for all their ids
        title, _, body = _module_doc(module).partition("\n")
        page = f"# {to_markdown(title.strip())}\n\n{version_table(to_markdown(body)).strip()}\n"
        write_if_changed(out / f"{module.rsplit('.', 1)[1]}.md", page)
    for entry in REGISTRY.values():
        if getattr(entry, "kind", "game") != "game":
            continue  # on the meta-environment page written above
        name = entry.module.rsplit(".", 1)[1]
        write_if_changed(out / f"{name}.md", env_page(entry, out / "img"))
        index.append(f"| [`{entry.full_id}`]({name}.md) | {entry.description} |")
        nav.append({entry.id: f"envs/{name}.md"})
    write_if_changed(out / "index.md", "\n".join(index) + "\n")
    return {"Environments": nav}
