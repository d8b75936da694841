"""Session-wide fixtures: the trained model and the real running servers."""

from collections.abc import Iterator

import pytest

from tests.support.servers import Servers, missing_prerequisites, running_servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The real Rasa and action servers, started once for the whole session."""
    reason = missing_prerequisites()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("servers")
    with running_servers(workdir) as running:
        yield running
