"""Where the Redis lock store connects: the lock_store block, else REDIS_URL (no Redis needed)."""

from collections.abc import Iterator

import pytest
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.core.settings import get_settings
from bot.rasa.runtime.lock_store import RedisTicketLockStore, redis_options


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """REDIS_URL set in the environment (settings re-read before and after)."""
    url = "redis://:s3cret@redis.internal:6380/3"
    monkeypatch.setenv("REDIS_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def connection(store: RedisTicketLockStore) -> dict:
    """What the store's Redis client connects with."""
    return store.red.connection_pool.connection_kwargs


def test_urls_become_connection_options() -> None:
    assert redis_options("redis://127.0.0.1:6379/0") == {
        "host": "127.0.0.1",
        "port": 6379,
        "db": 0,
        "username": None,
        "password": None,
        "use_ssl": False,
    }
    secure = redis_options("rediss://app:p%40ss@cache.example.org/2")
    assert secure["use_ssl"] is True and secure["port"] == 6379 and secure["db"] == 2
    assert (secure["username"], secure["password"]) == ("app", "p@ss")
    for wrong in ("", "http://cache:6379", "redis://"):
        with pytest.raises(ValueError, match="REDIS_URL"):
            redis_options(wrong)


def test_a_block_without_a_host_uses_redis_url(redis_url: str) -> None:
    endpoint = EndpointConfig(type="bot.rasa.runtime.lock_store.RedisTicketLockStore")
    store = LockStore.create(endpoint)
    assert isinstance(store, RedisTicketLockStore)
    options = connection(store)
    assert (options["host"], options["port"], options["db"]) == ("redis.internal", 6380, 3)
    assert options["password"] == "s3cret"
    assert store.key_prefix == "pilotrock:lock:"


def test_the_blocks_own_settings_win(redis_url: str) -> None:
    endpoint = EndpointConfig(
        url="10.0.0.7",
        type="bot.rasa.runtime.lock_store.RedisTicketLockStore",
        port=6390,
        db=5,
        key_prefix="staging",
    )
    store = LockStore.create(endpoint)
    options = connection(store)
    assert (options["host"], options["port"], options["db"]) == ("10.0.0.7", 6390, 5)
    assert store.key_prefix == "staging:lock:"


def test_without_redis_url_or_host_the_error_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="REDIS_URL"):
            RedisTicketLockStore()
    finally:
        get_settings.cache_clear()
