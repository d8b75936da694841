"""Map free-text answers to the assessment questions onto slot values, never guessing."""

import re

from bot.recommendation import SIDES

# slot -> (second-opinion side, advocacy side); the same pairs the recommendation rule uses.
SLOT_VALUES: dict[str, tuple[str, str]] = SIDES

# Regex cues per slot value, matched as whole words on normalised text (see _normalise):
# lowercase, contractions expanded ("don't" -> "do not"), clause punctuation -> " . ".
# Overlapping matches resolve longest first, so a negated phrase written out as a cue of the
# other side ("not alone", "no one helps", "not just one decision") beats the bare word inside.
_FAMILY = (
    r"(?:wife|husband|partner|spouse|kids|children|family|parents|mom|mum|dad|mother|father"
    r"|sisters?|brothers?|sons?|daughters?|friends|neighbou?rs|church|boyfriend|girlfriend)"
)
_DECISION = r"de[cs][a-z]{0,3}ion"  # decision, desicion, decsion
_SUPPORT = r"(?:sup+ort|help|people|family|friends)"
# Doubting a diagnosis or plan is itself a specific question, not a negation of one.
_DOUBT = (
    r"(?:not sure|do not (?:really )?(?:know|trust|believe)|wonder\w*|doubt\w*|question\w*)"
    r" (?:if |whether |that )?(?:\w+ ){0,2}(?:diagnosis|treatment|plan|surgery|recommendation)"
)
CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "scope": {
        "bounded": (
            r"bounded|spec[ie]?fi?c\w*|simple|straightforward|clear cut|narrow|contained",
            r"(?:one|1|single|quick|clear|particular|yes or no) (?:\w+ )?question",
            r"(?:just|only) (?:one |a |the one |this )?(?:question|thing|issue|concern)",
            r"(?:one|single) (?:\w+ )?(?:thing|issue|concern)",
            r"(?:just|only) (?:want|need|wanna) (?:to )?(?:know|check|confirm)",
            r"(?:diagnosis|treatment|plan|surgery) (?:is|was) (?:right|correct|accurate|wrong)",
            r"not (?:\w+ )?(?:complex|complicated|messy)",
            _DOUBT,
        ),
        "complex": (
            r"complex\w*|compli?cate?d|evolv\w*|unfolding|in flux|up in the air|moving target",
            r"(?:keeps?|kept|always|constantly|still) (?:on )?chang\w*|changing|ongoing",
            r"new (?:\w+ )?(?:problems|issues|symptoms|things|diagnos[ie]s)",
            r"(?:many|multiple|several|lots of|a lot of|so many|too many|different|two|three"
            r"|four|five|\d+) (?:\w+ )?"
            r"(?:problems|issues|questions|things|conditions|doctors|specialists|symptoms)",
            r"one (?:thing|problem|issue|test) after (?:another|the other)",
            r"(?:a |such a |total |complete |huge )?mess|messy|all over the place|tangled",
            r"(?:getting|keeps getting|got) worse|spiral\w*|snowball\w*",
            r"it is a lot|(?:so much|a lot) going on",
            r"more than (?:one|a single) (?:\w+ )?(?:question|thing|issue|problem)",
            r"not (?:just |only |simply )?(?:one|a single) (?:\w+ )?(?:question|thing|issue)",
            r"not (?:\w+ )?(?:simple|straightforward|specific|clear cut)",
        ),
    },
    "decisions": {
        "one_time": (
            r"one time|once|one off|one and done|single|yes or no",
            rf"(?:one|1|single) (?:\w+ )?(?:{_DECISION}|choice|call)",
            r"(?:just|only) (?:the |this |that )?(?:one|1)",
            rf"(?:just|only) (?:this|that|the) (?:\w+ )?(?:{_DECISION}|choice)",
            r"(?:only|just|decide|deciding) (?:whether|if)|whether (?:or not )?to",
            r"not (?:really )?(?:a )?journey",
            rf"not (?:many|multiple|lots of|a lot of|several) (?:\w+ )?(?:{_DECISION}s|choices)",
        ),
        "many": (
            r"many|journey|series|ongoing|chronic|step by step|next steps|road ahead",
            rf"{_DECISION}s|choices|more to come|keeps? coming",
            r"long (?:road|haul|term|process|way)|over (?:time|the (?:next|coming))",
            r"(?:one|decision|thing) after (?:another|the other)",
            r"(?:months|years) (?:of|ahead)|every (?:week|month|few weeks|time)",
            rf"not (?:just |only |simply )?(?:one|1|a single|a one time)(?: \w+)?"
            rf"(?: (?:{_DECISION}|choice|thing))?",
            r"more than (?:one|1|a single)",
        ),
    },
    "need": {
        "answer": (
            r"answers?|confirm\w*|verify|make sure|sanity check|double check|explain\w*",
            r"(?:a|one|my|the|specific|simple|single|quick) (?:\w+ )?question",
            r"(?:know|check|confirm|find out|verify|see|tell (?:me|us)) (?:if|whether)",
            r"(?:second|expert|medical|another|independent|fresh) (?:\w+ )?"
            r"(?:opinion|look|review|eyes)",
            r"(?:is|was|are) (?:the|this|my|his|her|their) (?:\w+ )?(?:diagnosis|treatment|plan"
            r"|surgery|recommendation) (?:\w+ )?(?:right|correct|accurate|wrong|necessary|needed)",
            r"(?:diagnosis|treatment|plan|surgery|recommendation|it) (?:is|was) "
            r"(?:right|correct|accurate|wrong|necessary|needed|appropriate)",
            r"(?:right|correct|accurate|wrong) (?:diagnosis|treatment|plan)",
            _DOUBT,
            r"(?:look|looks|go) (?:at|over) (?:my|our|the|his|her)|review (?:my|our|the|his|her)",
        ),
        "navigate": (
            r"nav[ai]gat\w*|guid\w*|advoca\w*|coordinat\w*|organi[sz]\w*|overwhelm\w*|lost",
            r"(?:help|walk|take|get|see|steer) (?:me|us|him|her|them) through",
            r"(?:the|this|healthcare|health care|medical|hospital|insurance) system|maze",
            r"appointments?|insurance|referrals?|paperwork|red tape|bureaucracy|keep track",
            r"(?:deal|dealing) with|fight\w* (?:for|with)|in (?:my|our) corner",
            r"chas\w* (?:\w+ )?(?:records|results|doctors|referrals|specialists)",
            r"(?:(?:do not (?:even |really )?know|no idea|not sure) )?(?:where|who|how) to "
            r"(?:go|turn|start|call|begin)|going in circles|run ?around|running around",
            r"(?:stay|stays|be) with (?:me|us)|hold (?:my|our) hand|hand holding|point person",
            r"(?:doctors|specialists) (?:do not|never) (?:talk|communicate)",
            r"manag\w* (?:everything|it all|all of (?:it|this))",
        ),
    },
    "support": {
        "has_support": (
            r"has support|support (?:system|network)|supportive|surrounded|(?:lean|rely|count) on",
            r"(?:strong|good|great|solid|amazing|wonderful|lots of|plenty of|a lot of|tons of"
            rf"|loads of|enough|decent|fantastic) (?:\w+ )?{_SUPPORT}",
            rf"(?:have|has|got|there is) (?:\w+ ){{0,2}}{_SUPPORT}",
            rf"(?:my|our) (?:\w+ )?{_FAMILY}",
            r"helps?|helping|help out|pitch(?:es)? in|by (?:my|our) side|every step|rallied",
            r"take turns|taking turns|(?:are|is) (?:always )?there for",
            r"not (?:\w+ )?(?:alone?|on (?:my|our) own|by (?:my|our)sel(?:f|ves))|never alone",
        ),
        "alone": (
            r"alone?|lonely|isolated|on (?:my|our) own|by (?:my|our)sel(?:f|ves)|myself",
            r"(?:just|only|basically|mostly|pretty much|really) (?:\w+ ){0,2}me",
            r"no one|noone|nobody|no body|not (?:anyone|anybody)",
            r"(?:no one|noone|nobody) (?:\w+ ){0,2}(?:helps?|is there|around|to help|cares)",
            rf"no (?:\w+ )?{_SUPPORT}",
            rf"(?:do|does|did) not (?:really )?have (?:\w+ ){{0,2}}(?:anyone|anybody|{_SUPPORT})",
            r"(?:little|zero|barely any|hardly any|lack of|without|not much|not a lot of"
            rf"|not enough|limited) (?:\w+ )?{_SUPPORT}",
            r"not (?:\w+ )?(?:around|there|nearby|close by|available|involved|able to help)",
            r"far away|far from|lives? (?:far|away|out of state|overseas|abroad)",
            rf"(?:my|our) (?:\w+ )?{_FAMILY} (?:\w+ )?(?:passed away|died|left|moved away"
            r"|lives? (?:far|away|out of state|overseas|abroad))",
            r"(?:only|sole) (?:one|caregiver|person)|single (?:mom|mum|dad|parent)",
            r"widow\w*|divorced|passed away|died|fending for",
            r"(?:doing|handling|managing|juggling) (?:it all|everything)",
        ),
    },
}

# Answers that name both sides or neither, and questions back to the bot ("what is a
# navigator?", "how much does a second opinion cost?"): never mapped, whatever else they say.
NOT_AN_ANSWER = re.compile(
    r"\b(?:both|either|neither)\b(?! (?:of|my|our|his|her|their|the|kids|children|parents))"
    r"|\b(?:in between|somewhere between|half and half|it depends|depends on)\b"
    r"|^(?:what (?:is|are|does|do you)|how (?:much|long|does)|who (?:is|are)|do you|are you)\b"
)

# A cue is void when one of these is among the four words before it in the same clause
# ("I don't think it's complex", "not sure I have enough support").
NEGATORS = frozenset({"not", "never", "without", "nobody", "hardly", "barely", "nor"})
_WINDOW = 4

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "`": "'", "\u00b4": "'"})
_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    (r"\bcan'?t\b", "can not"),
    (r"\bwon'?t\b", "will not"),
    (r"\bain'?t\b", "is not"),
    (r"n't\b", " not"),
    (r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should)nt\b", r"\1 not"),
    (r"\bim\b", "i am"),
    (r"\bive\b", "i have"),
    (r"'m\b", " am"),
    (r"'re\b", " are"),
    (r"'ve\b", " have"),
    (r"'ll\b", " will"),
    (r"'d\b", " would"),
    (r"\b(it|that|there|he|she|what|who|here|where)'s\b", r"\1 is"),
    (r"'s?\b", ""),
)

_COMPILED: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    slot: tuple(
        (value, re.compile(rf"\b(?:{cue})\b")) for value in values for cue in CUES[slot][value]
    )
    for slot, values in SLOT_VALUES.items()
}


def _normalise(text: str) -> str:
    """Lowercase, straighten quotes, expand contractions and reduce punctuation to clause marks."""
    text = text.lower().translate(_QUOTES)
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = text.replace("&", " and ")
    text = re.sub(r"[.,;:!?()\n]+", " . ", text)
    text = re.sub(r"[^a-z0-9. ]+", " ", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(?: \.)+", " .", text).strip(" .")


def _negated(text: str, start: int) -> bool:
    """Whether a negator stands among the few words before position start, in the same clause."""
    return not NEGATORS.isdisjoint(text[:start].rsplit(".", 1)[-1].split()[-_WINDOW:])


def map_answer(slot: str, text: str) -> str | None:
    """Map a free-text answer for an assessment slot to one of its values, or None if unclear."""
    if slot not in SLOT_VALUES:
        raise ValueError(f"unknown assessment slot: {slot!r}")
    norm = _normalise(text or "")
    for value in SLOT_VALUES[slot]:
        if norm == value.replace("_", " "):  # a canonical value typed back: "one_time", "Many"
            return value
    if not norm or NOT_AN_ANSWER.search(norm):
        return None
    matches = [
        (m.start(), m.end(), value)
        for value, pattern in _COMPILED[slot]
        for m in pattern.finditer(norm)
    ]
    kept: list[tuple[int, int, str]] = []
    for start, end, value in sorted(matches, key=lambda m: (m[0] - m[1], m[0])):
        if all(end <= k_start or start >= k_end for k_start, k_end, _ in kept):
            kept.append((start, end, value))
    sides = {value for start, _, value in kept if not _negated(norm, start)}
    return sides.pop() if len(sides) == 1 else None
