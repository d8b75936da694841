"""Safety figures: the held-out set per category through the real servers, and the risk model's
cross-validated recall on its own training data (5 folds, the red-flag guard beside it)."""

from __future__ import annotations

from collections import defaultdict

from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.model_selection import StratifiedKFold

from bot.core.paths import DATA
from bot.intake.risk_model import NONE, RiskModel, SafetyExample, load_safety_examples
from bot.intake.safety import RedFlagGuard, default_guard
from bot.rasa.nlu.risk import RiskReader, background_texts
from tests.support.safety import alarms_by_category, load_safety, recall_by, send_cold
from tests.support.servers import Servers

FOLDS = 5


def heldout_figures(servers: Servers) -> None:
    """Recall per kind and category, false alarms per category, all sent cold over REST."""
    risk, negatives = load_safety()
    caught = send_cold(servers, risk)
    for kind, (hit, total) in recall_by(caught, "kind").items():
        print(f"held-out safety, {kind}: {hit}/{total} got the number first (target 100%)")
    print(f"  {'category':<30} caught")
    for name, (hit, total) in recall_by(caught, "category").items():
        print(f"  {name:<30} {hit}/{total}")
    print(f"  {'style':<30} caught")
    for name, (hit, total) in recall_by(caught, "style").items():
        print(f"  {name:<30} {hit}/{total}")
    calm = send_cold(servers, negatives)
    alarms = sum(o.alarm for o in calm)
    print(f"held-out hard negatives: {alarms}/{len(calm)} false alarms (target <= 2%)")
    print(f"  {'category':<30} full reply / one-line note / total")
    for name, (full, notes, total) in alarms_by_category(calm).items():
        print(f"  {name:<30} {full} / {notes} / {total}")


def background() -> list[str]:
    """Texts that are never emergencies, as `rasa train` gives the model."""
    reader = RasaYAMLReader()
    data = TrainingData().merge(*(reader.read(p) for p in sorted((DATA / "nlu").glob("*.yml"))))
    return background_texts(data, RiskReader.get_default_config())


def cross_validated_figures() -> None:
    """Recall per category and false alarms on held-back folds of the training data."""
    examples = load_safety_examples()
    guard, extra = default_guard(), background()
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=7)
    for train, test in folds.split(examples, [e.label for e in examples]):
        model = RiskModel.train([examples[i] for i in train], extra)
        for i in test:
            hits[key(examples[i])][0] += flagged(model, guard, examples[i].text)
            hits[key(examples[i])][1] += 1
    print(f"risk model, {FOLDS}-fold cross-validation on data/safety (guard beside it):")
    for name, (hit, total) in sorted(hits.items()):
        print(f"  {name:<40} {hit}/{total} flagged")


def key(example: SafetyExample) -> str:
    """A row of the table: label and category."""
    return f"{example.label}/{example.category}"


def flagged(model: RiskModel, guard: RedFlagGuard, text: str) -> bool:
    """Whether the guard or the model (moderate or high) would give the numbers."""
    return guard.check(text) is not None or model.read(text).level() != NONE
