"""Well-known locations inside the repository."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "data"
PATTERNS = DATA / "patterns"
VAR = ROOT / "var"
MODELS = ROOT / "models"
SPACY_PIPELINE = VAR / "spacy" / "en_pilotrock"
