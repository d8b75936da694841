"""The real PostgreSQL, Redis and RabbitMQ a test needs: their URLs, or a skip (a failure on CI).

Each `require_*()` connects once and returns the service's URL. When the service does not
answer, the test is skipped with the reason; when the `CI` variable is set it fails instead,
since CI provides every service. URLs come from TEST_POSTGRES_ADMIN_URL, TEST_REDIS_URL and
TEST_RABBITMQ_URL, defaulting to the services on this machine.
"""

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
CONNECT_TIMEOUT = 3.0


def unavailable(service: str, url: str, error: BaseException) -> None:
    """Skip the test because `service` does not answer (fail when CI is set)."""
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = f"{service} unreachable at {redacted(url)}: {detail}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def redacted(url: str) -> str:
    """`url` without its password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, place = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{place}"


def _required(service: str, url: str, problem_of: Callable[[str], BaseException | None]) -> str:
    """`url` when `problem_of(url)` finds nothing wrong; else skip the test (fail on CI)."""
    problem = problem_of(url)
    if problem is not None:
        unavailable(service, url, problem)
    return url


@cache
def _redis_problem(url: str) -> BaseException | None:
    """Why Redis at `url` cannot be used, or None (asked once per session)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as error:
        return error
    finally:
        client.close()
    return None


def require_redis() -> str:
    """The URL of a Redis that answers PING."""
    return _required("Redis", os.environ.get("TEST_REDIS_URL", REDIS_URL), _redis_problem)


@cache
def _postgres_problem(url: str) -> BaseException | None:
    """Why PostgreSQL at `url` cannot be used, or None (asked once per session)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url, connect_args={"connect_timeout": int(CONNECT_TIMEOUT)})
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        return error.orig or error
    finally:
        engine.dispose()
    return None


def require_postgres() -> str:
    """The URL of PostgreSQL's maintenance database, as a superuser that may create databases."""
    url = os.environ.get("TEST_POSTGRES_ADMIN_URL", POSTGRES_ADMIN_URL)
    return _required("PostgreSQL", url, _postgres_problem)


@cache
def _rabbitmq_problem(url: str) -> BaseException | None:
    """Why RabbitMQ at `url` cannot be used, or None (asked once per session)."""
    import aio_pika

    async def connect() -> None:
        connection = await aio_pika.connect(url, timeout=CONNECT_TIMEOUT)
        await connection.close()

    try:  # in a thread of its own: the calling test may be running an event loop
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, connect()).result()
    except Exception as error:  # refused, timed out, or the login was not accepted
        return error
    return None


def require_rabbitmq() -> str:
    """The URL of a RabbitMQ that accepts the login in it."""
    url = os.environ.get("TEST_RABBITMQ_URL", RABBITMQ_URL)
    return _required("RabbitMQ", url, _rabbitmq_problem)
