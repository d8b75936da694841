"""Real-browser fixtures: the web app in front of the real servers, Chromium and fresh pages.

The widget on the demo page talks to the Rasa server through a loopback TCP proxy
(`tests/support/proxy.py`) so a test can cut the network between the browser and the server.
The browser is Debian's Chromium (`apt-get install chromium`) driven by Playwright; no browser is
ever downloaded. Without /usr/bin/chromium these tests skip, or fail when CI is set.

Playwright's sync API marks its own event loop as the running one in the main thread while it is
alive, which would break the async tests of other folders: everything here is package-scoped, so
Chromium and Playwright are gone before the next folder's tests run.
"""

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from tests.support.proxy import TcpProxy, tcp_proxy
from tests.support.servers import ROOT, Servers, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
TIMEZONE = "America/Chicago"
STARTUP_SECONDS = 30
EXPECT_MS = 10_000  # Playwright's own 5 s is tight on a 2-core CI machine running Rasa too


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the chat widget in a real Chromium")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the test item, so fixtures can tell that a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def missing_or_fail(reason: str) -> None:
    """Skip with the reason here; on CI a missing prerequisite is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium_path() -> Path:
    """Debian's Chromium, or a skip (a failure on CI) that says how to install it."""
    if not CHROMIUM.is_file():
        missing_or_fail(f"{CHROMIUM} is missing: `apt-get update && apt-get install -y chromium`")
    return CHROMIUM


@pytest.fixture(scope="package")
def rasa_proxy(servers: Servers) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the Rasa server: the widget's only way to reach it."""
    target = urlsplit(servers.rasa_url)
    with tcp_proxy(target.hostname or "127.0.0.1", target.port or 80) as proxy:
        yield proxy


@dataclass
class WebApp:
    """The running web app (demo page and widget files)."""

    url: str
    rasa_url: str  # the Rasa address the page embeds (the proxy)


@contextmanager
def served(app: Any, name: str) -> Iterator[str]:
    """An ASGI app on a free port, uvicorn in a background thread; yields its address."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the {name} did not start on {url}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="package")
def web_app(rasa_proxy: TcpProxy) -> Iterator[WebApp]:
    """`bot.web.app` on a free port in a background thread, embedding the proxy's address."""
    from bot.web.app import create_app

    with served(create_app(rasa_url=rasa_proxy.url), "web app") as url:
        health = requests.get(f"{url}/healthz", timeout=10)
        if health.status_code != 200:
            missing_or_fail(f"the web app is not ready: {health.status_code} {health.text.strip()}")
        yield WebApp(url=url, rasa_url=rasa_proxy.url)


@pytest.fixture(scope="package")
def browser(chromium_path: Path) -> Iterator[Browser]:
    """One headless Chromium for the package."""
    expect.set_options(timeout=EXPECT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="package")
def artifacts() -> Path:
    """artifacts/browser/ (git-ignored): screenshots of layouts and of failures."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class ConsoleLog:
    """Everything a page reported as an error: console.error calls and uncaught exceptions.

    Network failures that a test causes on purpose (cutting the proxy) can be allowed with
    `allow_network_errors_to(origin)`: only Chromium's own "failed to load" and WebSocket
    messages about that origin are tolerated then, never a script's console.error.
    """

    errors: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)
    _hosts: set[str] = field(default_factory=set)

    def allow_network_errors_to(self, origin: str) -> None:
        self._hosts.add(urlsplit(origin).netloc)

    def _is_allowed_network_error(self, message: ConsoleMessage) -> bool:
        if message.args:  # a script's console.error has arguments; Chromium's own logs none
            return False
        if message.text.startswith("Failed to load resource: net::ERR_"):
            return urlsplit(message.location.get("url", "")).netloc in self._hosts
        websocket = re.match(r"WebSocket connection to 'wss?://([^/']+)/", message.text)
        return bool(websocket) and websocket.group(1) in self._hosts

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"console.error: {message.text} ({message.location.get('url', '')})"
        if self._is_allowed_network_error(message):
            self.tolerated.append(text)
        else:
            self.errors.append(text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"pageerror: {error}")


@pytest.fixture
def console() -> ConsoleLog:
    """The console errors of the pages of this test (checked when the test ends)."""
    return ConsoleLog()


@pytest.fixture
def new_page(
    browser: Browser,
    web_app: WebApp,
    console: ConsoleLog,
    artifacts: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context (1280x800 unless told; time zone America/Chicago).

    Any console.error or uncaught page error fails the test; a failing test leaves a
    screenshot of each of its pages in artifacts/browser/.
    """
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] | None = None, **options: object) -> Page:
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            timezone_id=TIMEZONE,
            locale="en-US",
            **options,  # type: ignore[arg-type]
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", console.on_console)
        page.on("pageerror", console.on_page_error)
        return page

    yield make

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for index, context in enumerate(contexts):
        if failed:
            for number, page in enumerate(context.pages):
                name = f"FAILED-{request.node.name}-{index}-{number}.png"
                page.screenshot(path=str(artifacts / re.sub(r"[^\w.-]+", "_", name)))
        context.close()
    if console.errors:
        pytest.fail("the page reported errors:\n" + "\n".join(console.errors), pytrace=False)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A desktop page (1280x800) in a fresh context."""
    return new_page()


@pytest.fixture
def staff_page(
    browser: Browser, console: ConsoleLog, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh desktop page for the staff app; console errors and page errors fail the test."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    if console.errors:
        name = re.sub(r"[^\w.-]+", "_", f"FAILED-{request.node.name}.png")
        page.screenshot(path=str(artifacts / name), full_page=True)
    context.close()
    assert not console.errors, "the page reported errors:\n" + "\n".join(console.errors)


@pytest.fixture
def link(rasa_proxy: TcpProxy) -> Iterator[TcpProxy]:
    """The proxy between browser and Rasa, restored after the test whatever happened."""
    rasa_proxy.restore()
    yield rasa_proxy
    rasa_proxy.restore()
