"""Build the project's own spaCy pipeline: blank English plus an EntityRuler."""

from pathlib import Path

import spacy
from spacy.language import Language

from bot.core.paths import PATTERNS, SPACY_PIPELINE

ENTITY_PATTERNS = PATTERNS / "entities.jsonl"
PIPELINE_NAME = "en_pilotrock"


def build_pipeline(patterns: Path = ENTITY_PATTERNS) -> Language:
    """A blank English pipeline that tags conditions, specialties and relationships."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.from_disk(patterns)  # type: ignore[attr-defined]
    nlp.meta["name"] = PIPELINE_NAME.removeprefix("en_")
    nlp.meta["description"] = "Pilot Rock entity patterns on a blank English tokenizer"
    return nlp


def write_pipeline(target: Path = SPACY_PIPELINE, patterns: Path = ENTITY_PATTERNS) -> Path:
    """Build the pipeline and save it where Rasa's SpacyNLP loads it from."""
    nlp = build_pipeline(patterns)
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return target
