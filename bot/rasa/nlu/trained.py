"""What the project's trainable NLU components share: one pickled model in the model archive."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Generic, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from typing_extensions import Self

ModelT = TypeVar("ModelT")


def worded(messages: list[Message]) -> Iterator[tuple[Message, str]]:
    """Each message with words, and its text (button payloads and blank texts are skipped)."""
    for message in messages:
        text = message.get(TEXT) or ""
        if text.strip() and not text.startswith("/"):
            yield message, text


def code_fingerprint(*modules: ModuleType) -> str:
    """A hash of a model's code with the shared features' (answer model and sentence encoder),
    so `rasa train` retrains when any of it changes (Rasa sees none of it)."""
    from bot.intake import answer_model, encoder_graph, sentence_encoder

    files = dict.fromkeys([*modules, answer_model, sentence_encoder, encoder_graph])
    return sha256("".join(Path(str(m.__file__)).read_text() for m in files).encode()).hexdigest()


class PickledComponent(GraphComponent, Generic[ModelT]):
    """A graph component whose trained state is one object, pickled into its resource."""

    model_file: ClassVar[str] = "model.pkl"

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Self:
        """A component still to be trained."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Self:
        """The trained component from the model archive."""
        with model_storage.read_from(resource) as directory:
            model = pickle.loads((directory / cls.model_file).read_bytes())
        return cls(config, model_storage, resource, model)

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: ModelT | None = None,
    ) -> None:
        """Keep the configuration (over the defaults) and, once trained or loaded, the model."""
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._model = model

    def persist(self, model: ModelT) -> Resource:
        """Keep a freshly trained model and write it to the component's resource."""
        self._model = model
        with self._storage.write_to(self._resource) as directory:
            (directory / self.model_file).write_bytes(pickle.dumps(model))
        return self._resource
