"""The deterministic emergency / crisis red-flag guard and its safety set."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.intake.safety import DEFAULT_PATTERNS, RedFlag, RedFlagGuard, default_guard

SAFETY_SET = Path(__file__).resolve().parents[2] / "safety" / "red_flag_set.yml"
DATA = yaml.safe_load(SAFETY_SET.read_text(encoding="utf-8"))
REQUIRED_CATEGORIES = {
    "chest_pain",
    "stroke",
    "breathing",
    "unresponsive",
    "heavy_bleeding",
    "overdose",
    "seizure",
    "anaphylaxis",
    "suicidal_thoughts",
    "self_harm",
    "overdose_intent",
}


def label(text: str) -> str:
    """A short test id that names the message."""
    return text if len(text) <= 60 else f"{text[:57]}..."


@pytest.fixture(scope="module")
def guard() -> RedFlagGuard:
    return default_guard()


def test_safety_set_has_the_agreed_shape() -> None:
    assert len(DATA["positives"]) >= 80
    assert len(DATA["negatives"]) >= 40
    assert all(set(item) == {"text", "kind"} for item in DATA["positives"])
    assert {item["kind"] for item in DATA["positives"]} == {"acute", "crisis"}
    assert all(isinstance(text, str) and text for text in DATA["negatives"])


@pytest.mark.parametrize(
    ("text", "kind"),
    [pytest.param(p["text"], p["kind"], id=label(p["text"])) for p in DATA["positives"]],
)
def test_positive_is_caught_with_the_right_kind(guard: RedFlagGuard, text: str, kind: str) -> None:
    flag = guard.check(text)
    assert flag is not None, f"missed: {text!r}"
    assert flag.kind == kind, f"{text!r} flagged {flag}"


@pytest.mark.parametrize("text", [pytest.param(t, id=label(t)) for t in DATA["negatives"]])
def test_negative_does_not_fire(guard: RedFlagGuard, text: str) -> None:
    assert guard.find_all(text) == []


def test_flag_names_kind_category_and_matched_text(guard: RedFlagGuard) -> None:
    assert guard.check("my husband is not breathing") == RedFlag(
        "acute", "breathing", "not breathing"
    )
    assert guard.check("I want to kill myself") == RedFlag(
        "crisis", "suicidal_thoughts", "kill myself"
    )


@pytest.mark.parametrize(
    "text",
    [
        "my dad is having chest pain and honestly I want to die",
        "i want to die. my dad is having chest pain",
        "he OD'd on his pills on purpose and now he isn't breathing",
    ],
)
def test_crisis_wins_over_acute(guard: RedFlagGuard, text: str) -> None:
    kinds = {flag.kind for flag in guard.find_all(text)}
    assert kinds == {"acute", "crisis"}
    flag = guard.check(text)
    assert flag is not None
    assert flag.kind == "crisis"


def test_find_all_reports_every_flag_in_reading_order(guard: RedFlagGuard) -> None:
    flags = guard.find_all("she collapsed, she is not breathing and there is blood everywhere")
    assert [f.category for f in flags] == ["unresponsive", "breathing", "heavy_bleeding"]
    assert guard.check("she collapsed and is not breathing").category == "unresponsive"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "🙏😢", "?!...", "<br><p></p>", "&nbsp;"])
def test_empty_emoji_and_markup_only_input_is_no_flag(guard: RedFlagGuard, text: str) -> None:
    assert guard.find_all(text) == []
    assert guard.check(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "😭😭 can't breathe 😭",
        "I CANT BREATHE",
        "i can\u2019t breathe",
        "can&#39;t breathe",
        "<p>my husband is <b>not breathing</b></p>",
        "my dad is having chest\n\npain",
        "help!!my dad is having a heart attack",
    ],
)
def test_emoji_case_curly_quotes_html_and_line_breaks(guard: RedFlagGuard, text: str) -> None:
    flag = guard.check(text)
    assert flag is not None
    assert flag.kind == "acute"


def test_html_tags_do_not_create_flags(guard: RedFlagGuard) -> None:
    assert guard.check('<div class="kill myself">How much does it cost?</div>') is None


def test_five_thousand_characters(guard: RedFlagGuard) -> None:
    filler = "We need help finding a cardiologist who takes our insurance. "
    benign = (filler * 90)[:5000]
    assert len(benign) == 5000
    assert guard.check(benign) is None
    half = len(benign) // 2
    buried = benign[:half] + " my dad suddenly can't breathe. " + benign[half:]
    flag = guard.check(buried)
    assert flag is not None
    assert (flag.kind, flag.category) == ("acute", "breathing")


def test_default_guard_is_cached_and_covers_the_required_categories() -> None:
    guard = default_guard()
    assert default_guard() is guard
    assert DEFAULT_PATTERNS.is_file()
    assert set(guard.kinds) >= REQUIRED_CATEGORIES
    assert set(guard.kinds.values()) == {"acute", "crisis"}


def test_longer_match_survives_an_exclusion_inside_it() -> None:
    guard = RedFlagGuard(
        {
            "heart": {
                "kind": "acute",
                "phrases": ["heart attack", "just had a heart attack"],
                "exclude": {"phrases": ["had a heart attack"]},
            }
        }
    )
    assert guard.check("he had a heart attack in May") is None
    assert guard.check("he just had a heart attack") == RedFlag(
        "acute", "heart", "just had a heart attack"
    )


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "red_flags.yml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "urgent", "phrases": ["help"]}, "'kind' must be one of"),
        ({"kind": "acute"}, "needs at least one phrase or pattern"),
        ({"kind": "acute", "phrases": "help"}, "'phrases' must be a list"),
        ({"kind": "acute", "patterns": [{"LOWER": "help"}]}, "'patterns' must be a list"),
        ({"kind": "acute", "patterns": [[{"LOWER": {"IN": "help"}}]]}, "Invalid token patterns"),
        ({"kind": "acute", "patterns": [[{"LOWER": "Help"}]]}, "must be lower case"),
        ({"kind": "acute", "patterns": [[{"LOWR": "help"}]]}, "Invalid token patterns"),
        ({"kind": "acute", "phrases": ["help"], "synonyms": ["x"]}, "unknown keys"),
        ({"kind": "acute", "phrases": ["help"], "exclude": ["x"]}, "'exclude' must be a mapping"),
        ("not a mapping", "must be a mapping"),
    ],
)
def test_bad_pattern_file_names_the_category(tmp_path: Path, spec: Any, message: str) -> None:
    categories = {"ok": {"kind": "acute", "phrases": ["x"]}, "broken": spec}
    path = write(tmp_path, {"categories": categories})
    with pytest.raises(ValueError, match=message) as error:
        RedFlagGuard.from_file(path)
    assert "red-flag category 'broken'" in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("categories: [unclosed", "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("categories: {}\n", "non-empty 'categories'"),
        ("shared: []\n", "non-empty 'categories'"),
    ],
)
def test_bad_pattern_file_structure_raises_value_error(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RedFlagGuard.from_file(write(tmp_path, content))


@pytest.mark.parametrize(
    "text",
    [
        "she had a stroke three years ago and now we want a second opinion on her rehab",
        "when I was 19 I tried to kill myself. These days I'm in a good place",
        "if my dad ever has a heart attack what should we do first",
        "how can I tell a panic attack apart from a heart attack?",
        "she bled heavily after a miscarriage two years ago, we are trying again and want a plan",
    ],
)
def test_history_and_hypotheticals_are_not_a_present_danger(text: str) -> None:
    assert default_guard().check(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "he had a stroke last year and right now his face is drooping again",
        "my heart attack was in 2019. Now I have crushing chest pain",
        "as a kid she had asthma and now she can't breathe",
        "she miscarried last year and she's bleeding heavily again",
    ],
)
def test_a_present_danger_beside_history_is_still_flagged(text: str) -> None:
    assert default_guard().check(text) is not None


def test_context_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="context"):
        RedFlagGuard({"x": {"kind": "acute", "phrases": ["help"]}}, {"later": ["x"]})
    with pytest.raises(ValueError, match="context 'present'"):
        RedFlagGuard({"x": {"kind": "acute", "phrases": ["help"]}}, {"present": ["("]})


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("honestly an overdose of paperwork is what this referral feels like", None),
        ("my scanner keeps choking on the insurance forms", None),
        ("the fax machine choked on page 12 of his records", None),
        ("which of the two surgeries is the least painful option", None),
        ("what's the quickest way to go about getting a second opinion", None),
        ("is there a lethal dose of radiation in a CT scan", None),
        ("which drug is the most effective for cluster headaches", None),
        ("she took an overdose of her sleeping pills", "acute"),
        ("he swallowed an overdose of 30 tylenol", "acute"),
        ("overdose of insulin, he is sweating and confused", "acute"),
        ("my toddler is choking on a grape", "acute"),
        ("what's the most painless way to die", "crisis"),
        ("which pills would be the most lethal", "crisis"),
        ("how much is a lethal dose of ambien", "crisis"),
        ("which overdose hurts least? least painful overdose for me", "crisis"),
    ],
)
def test_look_alike_words_are_read_by_what_they_mean(text: str, kind: str | None) -> None:
    flag = default_guard().check(text)
    assert (flag.kind if flag else None) == kind
