"""Deterministic emergency and crisis red-flag guard that backs up the `emergency` intent."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

DEFAULT_PATTERNS = Path(__file__).resolve().parents[2] / "data" / "patterns" / "red_flags.yml"
ACUTE = "acute"
CRISIS = "crisis"
KINDS = (CRISIS, ACUTE)  # most urgent first
CATEGORY_KEYS = {"kind", "description", "phrases", "patterns", "exclude"}
CONTEXT_KEYS = ("historical", "hypothetical", "present")
SENTENCE_ENDS = frozenset({".", "!", "?", ";"})
RULE_KEYS = {"phrases", "patterns"}
_CLEAN = [
    (re.compile(r"<[^<>]{0,300}>"), " "),  # HTML tags
    (re.compile(r"[\u2018\u2019\u02bc\u00b4`]"), "'"),  # curly apostrophes
    (re.compile(r"(?<=\w)-(?=\w)"), " "),  # chest-pain, self-harm
    (re.compile(r"[!?;:/()\[\]{}*~|…]+"), r" \g<0> "),  # help!!my dad
    (re.compile(r"\s+"), " "),  # double spaces, line breaks, &nbsp;
]


@dataclass(frozen=True)
class RedFlag:
    """A red flag found in a message."""

    kind: str  # "acute" (call 911) or "crisis" (call or text 988)
    category: str  # e.g. "chest_pain", "suicidal_thoughts"
    text: str  # the matched span, as it reads after normalise()


def normalise(text: str) -> str:
    """Unescape HTML, drop tags, straighten apostrophes and space out hyphens and punctuation."""
    text = html.unescape(text)
    for pattern, replacement in _CLEAN:
        text = pattern.sub(replacement, text)
    return text.strip()


class _Rules:
    """One token Matcher plus one PhraseMatcher (on LOWER), keyed by category."""

    def __init__(self, nlp: Language) -> None:
        """Empty matchers over the pipeline's vocabulary."""
        self.nlp = nlp
        self.tokens = Matcher(nlp.vocab, validate=True)
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")

    def add(self, category: str, rules: Mapping[str, Any]) -> int:
        """Add a category's phrases and token patterns; return how many were added."""
        phrases, patterns = rules.get("phrases") or [], rules.get("patterns") or []
        if not isinstance(phrases, list) or not all(
            isinstance(p, str) and p.strip() for p in phrases
        ):
            raise ValueError("'phrases' must be a list of non-empty strings")
        if not isinstance(patterns, list) or not all(
            isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in patterns
        ):
            raise ValueError("'patterns' must be a list of non-empty lists of token dicts")
        for token in (t for p in patterns for t in p):
            value = token.get("LOWER")
            values = value.get("IN", []) if isinstance(value, dict) else [value]
            if bad := [v for v in values if isinstance(v, str) and v != v.lower()]:
                raise ValueError(f"LOWER values must be lower case, not {bad}")
        if phrases:
            self.phrases.add(category, [self.nlp.make_doc(normalise(p)) for p in phrases])
        if patterns:
            self.tokens.add(category, patterns)
        return len(phrases) + len(patterns)

    def __call__(self, doc: Doc) -> list[Span]:
        """Every match in the document, labelled with its category."""
        matches = [*(self.tokens(doc) if len(self.tokens) else []), *self.phrases(doc)]
        return [Span(doc, start, end, label=key) for key, start, end in matches]


class Context:
    """Sentence context that takes a flag out of the present, in the manner of ConText.

    A flag whose sentence places it in the past ("years ago", "when I was 19") or in a
    hypothetical ("what should I do if he ever...") is not a present danger, unless the same
    sentence also speaks of now ("right now", "again", "just").
    """

    def __init__(self, rules: Mapping[str, Any] | None) -> None:
        """Compile the context regular expressions (none: every flag counts)."""
        rules = rules or {}
        if not isinstance(rules, Mapping) or set(rules) - set(CONTEXT_KEYS):
            raise ValueError(f"'context' must be a mapping with keys among {CONTEXT_KEYS}")
        self._rules = {key: _alternation(key, rules.get(key) or []) for key in CONTEXT_KEYS}

    def removes(self, sentence: str) -> bool:
        """Whether the sentence is history or a hypothetical, and says nothing of now."""
        historical, hypothetical, present = (self._rules[k] for k in CONTEXT_KEYS)
        distant = any(r is not None and r.search(sentence) for r in (historical, hypothetical))
        return distant and not (present is not None and present.search(sentence))


def _alternation(key: str, expressions: Any) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any of the expressions, or None."""
    if not isinstance(expressions, list) or not all(isinstance(e, str) for e in expressions):
        raise ValueError(f"context {key!r} must be a list of regular expressions")
    if not expressions:
        return None
    try:
        return re.compile("|".join(f"(?:{e})" for e in expressions), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"context {key!r}: {exc}") from exc


class RedFlagGuard:
    """Deterministic red-flag detector built on spaCy's Matcher and PhraseMatcher."""

    def __init__(
        self, categories: Mapping[str, Any], context: Mapping[str, Any] | None = None
    ) -> None:
        """Compile the categories of a red-flag pattern file and its sentence context."""
        if not isinstance(categories, Mapping) or not categories:
            raise ValueError("red-flag patterns need a non-empty 'categories' mapping")
        self._nlp = spacy.blank("en")
        self._include, self._exclude = _Rules(self._nlp), _Rules(self._nlp)
        self._context = Context(context)
        self.kinds: dict[str, str] = {}
        for name, spec in categories.items():
            try:
                self.kinds[str(name)] = _compile(str(name), spec, self._include, self._exclude)
            except ValueError as exc:  # spaCy's MatchPatternError is a ValueError too
                raise ValueError(f"red-flag category {name!r}: {exc}") from exc

    @classmethod
    def from_file(cls, path: Path) -> RedFlagGuard:
        """Load a guard from a YAML pattern file."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: invalid YAML: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a mapping with a 'categories' key")
        return cls(data.get("categories") or {}, data.get("context"))

    def find_all(self, text: str) -> list[RedFlag]:
        """Every red flag in the text, in reading order (longest span per category)."""
        clean = normalise(text or "")
        if not clean:
            return []
        doc = self._nlp.make_doc(clean)
        vetoes = self._exclude(doc)
        kept = [
            s
            for s in self._include(doc)
            if not any(_vetoes(v, s) for v in vetoes)
            and not self._context.removes(_sentence(doc, s).text)
        ]
        by_category: dict[int, list[Span]] = {}
        for span in kept:
            by_category.setdefault(span.label, []).append(span)
        spans = sorted(
            (s for group in by_category.values() for s in filter_spans(group)),
            key=lambda s: (s.start, s.end),
        )
        return [RedFlag(self.kinds[s.label_], s.label_, s.text) for s in spans]

    def check(self, text: str) -> RedFlag | None:
        """The most urgent red flag (crisis wins over acute, then first seen), or None."""
        flags = self.find_all(text)
        return min(flags, key=lambda f: KINDS.index(f.kind)) if flags else None


def _compile(name: str, spec: Any, include: _Rules, exclude: _Rules) -> str:
    """Validate one category, add its rules to the matchers and return its kind."""
    if not isinstance(spec, Mapping):
        raise ValueError("must be a mapping with 'kind' and 'phrases' and/or 'patterns'")
    if unknown := set(spec) - CATEGORY_KEYS:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    if spec.get("kind") not in KINDS:
        raise ValueError(f"'kind' must be one of {KINDS}, not {spec.get('kind')!r}")
    if not include.add(name, spec):
        raise ValueError("needs at least one phrase or pattern")
    vetoes = spec.get("exclude") or {}
    if not isinstance(vetoes, Mapping) or set(vetoes) - RULE_KEYS:
        raise ValueError("'exclude' must be a mapping with 'phrases' and/or 'patterns'")
    exclude.add(name, vetoes)
    return str(spec["kind"])


def _sentence(doc: Doc, span: Span) -> Span:
    """The sentence around a span: from the previous sentence end to the next one."""
    start, end = span.start, span.end
    while start > 0 and doc[start - 1].text not in SENTENCE_ENDS:
        start -= 1
    while end < len(doc) and doc[end].text not in SENTENCE_ENDS:
        end += 1
    return doc[start:end]


def _vetoes(veto: Span, flag: Span) -> bool:
    """Whether an exclusion cancels a flag: same category, overlapping, not strictly inside it."""
    if veto.label != flag.label or veto.end <= flag.start or flag.end <= veto.start:
        return False
    return not (flag.start <= veto.start and veto.end <= flag.end and len(flag) > len(veto))


@lru_cache(maxsize=1)
def default_guard() -> RedFlagGuard:
    """The guard built from the repository's pattern file, loaded once."""
    return RedFlagGuard.from_file(DEFAULT_PATTERNS)
