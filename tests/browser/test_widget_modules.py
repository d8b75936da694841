"""The widget as native ES modules, in a real Chromium: one module tag loads all of it.

On the demo page (the web app's strict Content-Security-Policy) and on a page of another site
(another origin: the same loopback address on another port) that embeds it with a single tag:
Chromium fetches that page's module scripts in CORS mode, so this is where the web app's
`Access-Control-Allow-Origin` on the modules is needed. Console errors and uncaught page errors
fail any test (see conftest.py).
"""

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, Response, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.web.app import WIDGET_MODULES
from tests.browser.conftest import WebApp, served
from tests.browser.test_widget import Widget

pytestmark = pytest.mark.browser

GREETING = "isn't for emergencies"
API_JS = """() => ({
  keys: Object.keys(window.PilotRockChat),
  frozen: Object.isFrozen(window.PilotRockChat),
  functions: ["open", "close", "clear", "send"].every(
    (name) => typeof window.PilotRockChat[name] === "function"),
  hosts: document.querySelectorAll("#pilotrock-chat").length,
})"""


def widget_files(page: Page, web_app: WebApp) -> dict[str, str]:
    """Record each widget file the page fetches: {file name: content type}."""
    fetched: dict[str, str] = {}
    prefix = f"{web_app.url}/widget/"

    def on_response(response: Response) -> None:
        if response.url.startswith(prefix):
            name = response.url[len(prefix) :].split("?")[0]
            fetched[name] = response.headers.get("content-type", "")

    page.on("response", on_response)
    return fetched


def test_the_demo_page_loads_every_module_under_its_policy(page: Page, web_app: WebApp) -> None:
    fetched = widget_files(page, web_app)
    widget = Widget(page).load(web_app.url)
    widget.open()
    widget.wait_connected()
    widget.say("hi")
    widget.bot_says(GREETING)
    assert {name for name in fetched if name.endswith(".js")} == {
        *WIDGET_MODULES,
        "vendor/socket.io.min.js",
    }
    for name in WIDGET_MODULES:
        assert fetched[name] == "text/javascript; charset=utf-8", name
    api = page.evaluate(API_JS)
    assert api == {
        "keys": ["open", "close", "clear", "send", "sessionId", "connected"],
        "frozen": True,
        "functions": True,
        "hosts": 1,
    }


@pytest.fixture(scope="module")
def other_site(web_app: WebApp) -> Iterator[str]:
    """A clinic's own page on another origin, embedding the widget with one module tag (and,
    by mistake, a second copy of it with another URL)."""
    widget_url = f"{web_app.url}/widget/pilotrock-widget.js"
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic</title>
<link rel="icon" href="data:,"></head>
<body><h1>A clinic's own site</h1>
<script type="module" src="{widget_url}" data-server="{web_app.rasa_url}"
        data-title="Clinic chat" data-color="#5b2a86"></script>
<script type="module" src="{widget_url}?twice" data-title="Second copy"></script>
</body></html>"""

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(html)

    with served(Starlette(routes=[Route("/", page)]), "other site") as url:
        yield url


def test_another_site_embeds_it_with_one_tag(
    new_page: Callable[..., Page], other_site: str
) -> None:
    page = new_page()
    widget = Widget(page).load(f"{other_site}/")
    widget.open()
    # The settings come from the tag that loaded the widget; the second tag adds nothing.
    expect(widget.panel).to_have_attribute("aria-label", "Clinic chat")
    assert page.evaluate(API_JS)["hosts"] == 1
    accent = page.evaluate(
        "() => document.getElementById('pilotrock-chat').style.getPropertyValue('--pr-accent')"
    )
    assert accent == "#5b2a86"
    widget.wait_connected()
    widget.say("hi")
    widget.bot_says(GREETING)
    widget.settled()
