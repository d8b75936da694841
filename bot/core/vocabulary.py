"""The assessment's vocabulary, shared by every layer: the services, the four questions and the
two values each can take (the slot contract in DESIGN.md)."""

SECOND_OPINION = "second_opinion"
BOTH = "both"
ADVOCACY = "advocacy"

ASSESSMENT_SLOTS = ("scope", "decisions", "need", "support")

# For each question: (the second-opinion side, the complex/advocacy side).
SIDES: dict[str, tuple[str, str]] = {
    "scope": ("bounded", "complex"),
    "decisions": ("one_time", "many"),
    "need": ("answer", "navigate"),
    "support": ("has_support", "alone"),
}
