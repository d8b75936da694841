"""What the project's trainable NLU components share: one pickled model in the model archive."""

from __future__ import annotations

import pickle
from typing import Any, ClassVar, Generic, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from typing_extensions import Self

ModelT = TypeVar("ModelT")


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
