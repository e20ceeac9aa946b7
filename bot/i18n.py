"""Interface texts from Fluent files in locales/<lang>/*.ftl, with settings values available
as placeables (so { $hotline_phone } works in a welcome message too)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import FluentParser, ast

from bot.errors import ContentError
from bot.models import Lang
from bot.yamlsrc import Problem

Values = Mapping[Lang, Mapping[str, str | int]]
CACHE_SIZE = 4096  # formatted texts kept per Messages


def _line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _parse_dir(
    locales_dir: Path, lang: Lang
) -> tuple[dict[str, tuple[str, int]], list[str], list[Problem]]:
    """Message ids (with file:line) and sources of one locale, and its syntax problems."""
    ids: dict[str, tuple[str, int]] = {}
    sources: list[str] = []
    problems: list[Problem] = []
    folder = locales_dir / lang.value
    files = sorted(folder.glob("*.ftl"))
    if not files:
        problems.append(Problem(_display(folder), 1, f"no .ftl files for language '{lang}'"))
    parser = FluentParser(with_spans=True)
    for path in files:
        name = _display(path)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, 1, f"cannot read file: {exc}"))
            continue
        resource = parser.parse(source)
        for item in resource.body:
            if isinstance(item, ast.Junk):
                for note in item.annotations:
                    start = note.span.start if note.span else (item.span.start if item.span else 0)
                    problems.append(
                        Problem(
                            name, _line_of(source, start), f"Fluent syntax error: {note.message}"
                        )
                    )
            elif isinstance(item, ast.Message | ast.Term):
                key = item.id.name if isinstance(item, ast.Message) else "-" + item.id.name
                line = _line_of(source, item.span.start) if item.span else 1
                if key in ids:
                    first = ids[key]
                    problems.append(
                        Problem(
                            name,
                            line,
                            f"message '{key}' defined twice (first at {first[0]}:{first[1]})",
                        )
                    )
                ids[key] = (name, line)
        sources.append(source)
    return ids, sources, problems


def check_locales(locales_dir: Path) -> list[Problem]:
    """Syntax errors and messages present in one language but not the other."""
    problems: list[Problem] = []
    found: dict[Lang, dict[str, tuple[str, int]]] = {}
    for lang in Lang:
        ids, _, probs = _parse_dir(locales_dir, lang)
        found[lang] = ids
        problems += probs
    for lang in Lang:
        for other in Lang:
            if other is lang:
                continue
            for key, (file, line) in sorted(found[lang].items()):
                if key not in found[other]:
                    problems.append(
                        Problem(file, line, f"message '{key}' is missing in locales/{other}/")
                    )
    return problems


@dataclass(frozen=True, slots=True)
class Messages:
    """Localized interface texts: `messages(lang, "welcome", name=...)`."""

    bundles: Mapping[Lang, FluentBundle]
    values: Values
    # (lang, id, args) -> text: a text depends on nothing else, and formatting one (Fluent
    # converts every settings value on each call) was a sixth of a message's CPU
    _cache: dict[tuple[Lang, str, tuple[tuple[str, str | int], ...]], str] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def load(cls, locales_dir: Path, values: Values) -> Messages:
        problems = [p for p in check_locales(locales_dir) if p.severity == "error"]
        if problems:
            raise ContentError("\n".join(str(p) for p in problems))
        bundles = {}
        for lang in Lang:
            _, sources, _ = _parse_dir(locales_dir, lang)
            bundle = FluentBundle([lang.value], use_isolating=False)
            for source in sources:
                bundle.add_resource(FluentResource(source))
            bundles[lang] = bundle
        return cls(bundles, values)

    def has(self, lang: Lang, msg_id: str) -> bool:
        return self.bundles[lang].has_message(msg_id)

    def __call__(self, lang: Lang, msg_id: str, **args: str | int) -> str:
        key = (lang, msg_id, tuple(sorted(args.items())))
        text = self._cache.get(key)
        if text is None:
            text = self._format(lang, msg_id, args)
            if len(self._cache) >= CACHE_SIZE:  # case numbers and the like: keep it bounded
                self._cache.clear()
            self._cache[key] = text
        return text

    def _format(self, lang: Lang, msg_id: str, args: Mapping[str, str | int]) -> str:
        bundle = self.bundles[lang]
        if not bundle.has_message(msg_id):  # parity is checked at load; this is a bug
            raise KeyError(f"no message '{msg_id}' in locale {lang}")
        message = bundle.get_message(msg_id)
        if message.value is None:
            raise ContentError(f"locales/{lang}: message '{msg_id}' has no text")
        merged: dict[str, str | int] = dict(self.values.get(lang, {}))
        merged.update(args)
        text, errors = bundle.format_pattern(message.value, merged)
        if errors:
            raise ContentError(f"locales/{lang}: message '{msg_id}': {errors[0]}")
        return str(text)
