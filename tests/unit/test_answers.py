"""Free-text answers to the assessment questions map to slot values, or to None when unclear."""

import pytest

from bot.answers import SLOT_VALUES, map_answer

SCOPE = [
    ("just one question really", "bounded"),
    ("I only want to know if the biopsy diagnosis is correct", "bounded"),
    ("its pretty simple, is the surgery they recommended actualy necessary?", "bounded"),
    ("A specific question about my mom's treatment plan", "bounded"),
    ("It\u2019s a single question: do I really need the hysterectomy??", "bounded"),
    ("just want a second set of eyes on one thing", "bounded"),
    ("not that complicated honestly, we just need to check the scan results", "bounded"),
    ("specfic, its about one test result", "bounded"),
    ("I'm not sure the diagnosis is right", "bounded"),
    ("it keeps changing, new problems every month", "complex"),
    ("Complicated. Three specialists and none of them agree", "complex"),
    ("honestly its a mess, every test leads to another test", "complex"),
    ("my dad has heart failure, kidney issues and now dementia. it's a lot", "complex"),
    ("its complicatd and keeps evolving", "complex"),
    ("things keep getting worse and nobody can tell us why", "complex"),
    ("not just one question, there's like five things going on", "complex"),
    ("all over the place to be honest", "complex"),
    ("its not simple at all", "complex"),
]

DECISIONS = [
    ("only whether to have the surgery", "one_time"),
    ("Just this one decision about chemo", "one_time"),
    ("It's a one-time thing, do we go ahead with the transplant or not", "one_time"),
    ("we have to decide if she should get the pacemaker", "one_time"),
    ("one big desicion and then hopefully we're done", "one_time"),
    ("Just one. Whether to do the knee replacement", "one_time"),
    ("basically a yes or no on the spinal fusion", "one_time"),
    ("not many decisions, just the one", "one_time"),
    ("a whole journey of decisions", "many"),
    ("so many decisions ahead... chemo, radiation, maybe surgery", "many"),
    ("it's going to be a long road", "many"),
    ("not just one decision, it\u2019s one thing after another", "many"),
    ("new choices every few weeks it feels like", "many"),
    ("it's chronic so there will be decisions for years", "many"),
    ("more than one for sure", "many"),
    ("lots of desicions, I cant keep up", "many"),
    ("we are at the start of a journey i think", "many"),
]

NEED = [
    ("I just want to know if the diagnosis is right", "answer"),
    ("need an expert to look at my MRI and tell me if surgery is really necessary", "answer"),
    ("a second opinion on the pathology", "answer"),
    ("just want someone to double check the treatment plan", "answer"),
    ("confirm the oncologist's recommendation", "answer"),
    ("is the diagnosis even correct? thats all i need", "answer"),
    ("I'm not sure the diagnosis is right", "answer"),
    ("not lost, just want an answer", "answer"),
    ("someone to guide us through all of it", "navigate"),
    ("I feel lost in the system", "navigate"),
    ("someone who can deal with the insurance and the appointments", "navigate"),
    ("help me navagate all the specialists pls", "navigate"),
    ("we're drowning in appointments and referrals", "navigate"),
    ("the doctors don't talk to each other and I'm the one chasing records", "navigate"),
    ("I don't even know where to start", "navigate"),
    ("i dont know who to call anymore", "navigate"),
    ("Someone in our corner who stays with us", "navigate"),
    ("I need help coordinating my dad's care", "navigate"),
]

SUPPORT = [
    ("my wife and kids are with me every step", "has_support"),
    ("I'm not alone, my husband is great", "has_support"),
    ("we've got a big family and they all pitch in", "has_support"),
    ("yes my daughter is a nurse and she's handling a lot", "has_support"),
    ("Lots of suport from church friends", "has_support"),
    ("my parents help me with everything", "has_support"),
    ("friends and neighbors take turns driving me to chemo", "has_support"),
    ("it's basically just me", "alone"),
    ("I\u2019m on my own", "alone"),
    ("no one helps me", "alone"),
    ("I don't have much support", "alone"),
    ("honestly no, nobody around to help", "alone"),
    ("my husband passed away last year so its just me now", "alone"),
    ("I'm the only one taking care of mom", "alone"),
    ("doing it all by myself since the divorce", "alone"),
    ("My kids live out of state and I'm mostly alone", "alone"),
    ("im pretty much alon in this", "alone"),
    ("not a lot of help tbh", "alone"),
    ("I have a husband but he's not much help", "alone"),
    ("I dont want to do this alone but I am", "alone"),
    ("my brother is not around much to help", None),
]

UNCLEAR = [
    ("scope", "yes"),
    ("scope", "No"),
    ("decisions", "maybe"),
    ("need", "not sure"),
    ("support", "I don't know"),
    ("scope", ""),
    ("need", "   "),
    ("scope", "both really"),
    ("decisions", "a bit of both"),
    ("need", "either one is fine"),
    ("support", "neither really"),
    ("decisions", "it depends on the biopsy results"),
    ("need", "what does this cost?"),
    ("support", "hello??"),
    ("scope", "is the call free"),
    ("decisions", "ok"),
    ("need", "asdfgh"),
    ("scope", "I have chest pain right now"),
    ("support", "some days yes, some days no"),
    ("scope", "a simple question, but the whole situation is complicated"),
    ("decisions", "one decision now, probably many later"),
    ("need", "a second opinion first, then someone to guide us"),
    ("support", "my sister helps but she lives far away"),
    ("scope", "I don't think it's complex"),
    ("support", "im not sure i have enough support"),
    ("support", "my mom helps a bit but mostly it's me"),
    ("need", "what is a navigator?"),
    ("need", "how much does a second opinion cost?"),
    ("support", "🙂"),
]

BUTTON_TITLES = [
    ("scope", "Specific question", "bounded"),
    ("scope", "One specific question", "bounded"),
    ("scope", "Complex and evolving", "complex"),
    ("scope", "Complex and changing", "complex"),
    ("decisions", "One-time decision", "one_time"),
    ("decisions", "One main decision", "one_time"),
    ("decisions", "Many decisions ahead", "many"),
    ("decisions", "A series of decisions", "many"),
    ("need", "Answer a question", "answer"),
    ("need", "An expert answer", "answer"),
    ("need", "Help me navigate", "navigate"),
    ("need", "Someone to guide me", "navigate"),
    ("support", "I have good support", "has_support"),
    ("support", "I have people helping", "has_support"),
    ("support", "Mostly alone", "alone"),
    ("support", "Mostly by myself", "alone"),
]

CANONICAL = [
    ("scope", "bounded", "bounded"),
    ("scope", "COMPLEX", "complex"),
    ("decisions", "one_time", "one_time"),
    ("decisions", "one time", "one_time"),
    ("decisions", " many ", "many"),
    ("need", "answer", "answer"),
    ("need", "Navigate.", "navigate"),
    ("support", "has_support", "has_support"),
    ("support", "has support", "has_support"),
    ("support", "alone", "alone"),
]


@pytest.mark.parametrize(("text", "expected"), SCOPE)
def test_scope(text: str, expected: str) -> None:
    """Free-text scope answers map to bounded or complex."""
    assert map_answer("scope", text) == expected


@pytest.mark.parametrize(("text", "expected"), DECISIONS)
def test_decisions(text: str, expected: str) -> None:
    """Free-text decisions answers map to one_time or many."""
    assert map_answer("decisions", text) == expected


@pytest.mark.parametrize(("text", "expected"), NEED)
def test_need(text: str, expected: str) -> None:
    """Free-text need answers map to answer or navigate."""
    assert map_answer("need", text) == expected


@pytest.mark.parametrize(("text", "expected"), SUPPORT)
def test_support(text: str, expected: str | None) -> None:
    """Free-text support answers map to has_support or alone, negations included."""
    assert map_answer("support", text) == expected


@pytest.mark.parametrize(("slot", "text"), UNCLEAR)
def test_unclear_answers_are_not_guessed(slot: str, text: str) -> None:
    """Bare yes/no, hedges, mixed and unrelated answers give None so the bot re-asks."""
    assert map_answer(slot, text) is None


@pytest.mark.parametrize(("slot", "text", "expected"), BUTTON_TITLES + CANONICAL)
def test_button_titles_and_canonical_values(slot: str, text: str, expected: str) -> None:
    """Button titles and the slot values themselves, typed back, map to their value."""
    assert map_answer(slot, text) == expected


def test_slot_values_match_the_contract() -> None:
    """The four assessment slots and their two values each, second-opinion side first."""
    assert SLOT_VALUES == {
        "scope": ("bounded", "complex"),
        "decisions": ("one_time", "many"),
        "need": ("answer", "navigate"),
        "support": ("has_support", "alone"),
    }


def test_unknown_slot_raises() -> None:
    """Asking about a slot outside the assessment is a programming error."""
    with pytest.raises(ValueError, match="recommendation"):
        map_answer("recommendation", "bounded")
