"""The web app that serves the demo page and the chat widget (Starlette TestClient)."""

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.core.paths import ROOT
from bot.core.settings import get_settings
from bot.web import app as web
from bot.web.app import create_app

WIDGET_JS = ROOT / "web" / "widget" / "pilotrock-widget.js"
DEMO = ROOT / "web" / "demo" / "index.html"


@pytest.fixture
def socket_io(tmp_path: Path) -> Path:
    """A stand-in for node_modules/socket.io-client/dist/socket.io.min.js."""
    path = tmp_path / "socket.io.min.js"
    path.write_text("/*! Socket.IO v4 */ window.io = function () {};\n")
    return path


@pytest.fixture
def client(socket_io: Path) -> Iterator[TestClient]:
    with TestClient(create_app(rasa_port=5123, socket_io=socket_io)) as test_client:
        yield test_client


def csp_directives(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def test_demo_page_is_served_with_the_widget_pointing_at_rasa(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Pilot Rock Medical Navigators" in response.text
    tags = re.findall(r"<script[^>]*pilotrock-widget\.js[^>]*>", response.text)
    assert len(tags) == 1
    # The page's own host on RASA_PORT when no public Rasa URL is configured.
    assert 'data-server="http://testserver:5123"' in tags[0]


def test_demo_page_policy_allows_only_this_server_and_rasa(client: TestClient) -> None:
    response = client.get("/")
    policy = csp_directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "http://testserver:5123", "ws://testserver:5123"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    # The one inline <style> block is allowed by its hash, nothing else inline.
    block = re.search(r"<style>(.*?)</style>", DEMO.read_text(encoding="utf-8"), re.DOTALL)
    assert block
    digest = base64.b64encode(hashlib.sha256(block.group(1).encode()).digest()).decode()
    assert policy["style-src"] == ["'self'", f"'sha256-{digest}'"]


def test_a_public_rasa_url_is_used_for_the_widget_and_the_policy(socket_io: Path) -> None:
    app = create_app(rasa_url="https://chat.pilotrock.example/", socket_io=socket_io)
    with TestClient(app) as test_client:
        response = test_client.get("/")
    assert 'data-server="https://chat.pilotrock.example"' in response.text
    policy = csp_directives(response.headers["content-security-policy"])
    assert policy["connect-src"] == [
        "'self'",
        "https://chat.pilotrock.example",
        "wss://chat.pilotrock.example",
    ]


@pytest.mark.parametrize(
    ("host", "server"),
    [
        ("localhost:8080", "http://localhost:5123"),
        ("[::1]:8080", "http://[::1]:5123"),
        ('evil"onload="x', "http://testserver:5123"),  # Starlette ignores an invalid Host
        ("it's", "http://localhost:5123"),  # ours: anything but a plain host name or address
        ("ex%22ample", "http://localhost:5123"),
    ],
)
def test_the_rasa_address_follows_the_page_host_safely(
    client: TestClient, host: str, server: str
) -> None:
    response = client.get("/", headers={"host": host})
    assert response.status_code == 200
    assert f'data-server="{server}"' in response.text
    assert "onload" not in response.text
    policy = csp_directives(response.headers["content-security-policy"])
    assert policy["connect-src"][1] == server


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/widget/pilotrock-widget.js", "text/javascript; charset=utf-8", "PilotRockChat"),
        ("/widget/widget.css", "text/css; charset=utf-8", "@media (max-width: 480px)"),
        ("/widget/vendor/socket.io.min.js", "text/javascript; charset=utf-8", "Socket.IO"),
    ],
)
def test_widget_files_are_served_with_their_types(
    client: TestClient, path: str, content_type: str, marker: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert marker in response.text
    # Meant to be embedded on other sites' pages.
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["cache-control"] == "no-cache"


# A static `import ... from "specifier";` or `import "specifier";` statement.
IMPORT = re.compile(r"""^import\s(?:[^;"]*?\sfrom\s)?"([^"]+)";""", re.MULTILINE)


def module_imports(name: str) -> list[str]:
    """The specifiers a widget module imports."""
    return IMPORT.findall((WIDGET_JS.parent / name).read_text(encoding="utf-8"))


def test_widget_modules_are_the_javascript_files_of_web_widget() -> None:
    assert web.WIDGET_MODULES[0] == WIDGET_JS.name
    assert len(set(web.WIDGET_MODULES)) == len(web.WIDGET_MODULES)
    assert set(web.WIDGET_MODULES) == {path.name for path in WIDGET_JS.parent.glob("*.js")}


def test_widget_modules_import_only_each_other_by_relative_path() -> None:
    reached, todo = set(), [WIDGET_JS.name]
    while todo:
        name = todo.pop()
        reached.add(name)
        source = (WIDGET_JS.parent / name).read_text(encoding="utf-8")
        assert "import(" not in source, name  # no dynamic imports: every file is listed here
        for specifier in module_imports(name):
            assert re.fullmatch(r"\./[a-z-]+\.js", specifier), (name, specifier)
            assert specifier[2:] in web.WIDGET_MODULES, (name, specifier)
            if specifier[2:] not in reached:
                todo.append(specifier[2:])
    assert module_imports(WIDGET_JS.name), "the entry module imports the others"
    assert reached == set(web.WIDGET_MODULES)  # no module left out of the widget


@pytest.mark.parametrize("name", web.WIDGET_MODULES)
def test_widget_modules_are_served_for_module_scripts(client: TestClient, name: str) -> None:
    response = client.get(f"/widget/{name}", headers={"origin": "https://clinic.example"})
    assert response.status_code == 200
    # Browsers refuse a module script of any other type; nosniff makes no exception.
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Another site's page fetches module scripts in CORS mode, without credentials.
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == web.DEFAULT_CSP
    assert response.text == (WIDGET_JS.parent / name).read_text(encoding="utf-8")


def test_only_the_listed_modules_are_served(client: TestClient) -> None:
    assert client.get("/widget/nothing.js").status_code == 404
    assert client.get("/widget/Config.js").status_code == 404
    assert client.get("/widget/config.mjs").status_code == 404


def test_the_demo_page_loads_the_widget_with_one_module_script(client: TestClient) -> None:
    tags = re.findall(r"<script\b[^>]*>", client.get("/").text)
    assert len(tags) == 1
    assert re.search(r'\btype="module"', tags[0])
    assert re.search(r'\bsrc="/widget/pilotrock-widget\.js"', tags[0])
    assert "defer" not in tags[0]  # module scripts are deferred anyway


def test_the_readme_embeds_the_widget_as_a_module() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tags = re.findall(r"<script\b[^>]*pilotrock-widget\.js[^>]*>", readme)
    assert tags
    for tag in tags:
        assert 'type="module"' in tag, tag


def test_the_widget_sets_no_global_but_its_api() -> None:
    source = widget_source()
    assigned = set(re.findall(r"\bwindow\.(\w+)\s*=(?!=)", source))
    # `io` only to give the page back its own socket.io client after loading ours.
    assert assigned == {"PilotRockChat", "io"}
    assert not re.search(r"\bvar\s|\bglobalThis\b", source)


@pytest.mark.parametrize(
    "path", ["/", "/widget/pilotrock-widget.js", "/widget/widget.css", "/healthz", "/nothing-here"]
)
def test_every_response_has_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in headers


def test_missing_socket_io_client_is_a_clear_error(tmp_path: Path) -> None:
    app = create_app(rasa_port=5123, socket_io=tmp_path / "absent" / "socket.io.min.js")
    with TestClient(app) as test_client:
        vendor = test_client.get("/widget/vendor/socket.io.min.js")
        health = test_client.get("/healthz")
        page = test_client.get("/")
    assert vendor.status_code == 500
    assert vendor.headers["content-type"].startswith("text/plain")
    assert "npm ci" in vendor.text
    assert health.status_code == 503
    assert "npm ci" in health.json()["detail"]
    assert page.status_code == 200  # the page itself still works


def test_health_check(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_paths_are_not_found(client: TestClient) -> None:
    assert client.get("/widget/../README.md").status_code == 404
    assert client.get("/widget/vendor/other.js").status_code == 404


def test_default_socket_io_path_is_the_npm_package() -> None:
    assert web.SOCKET_IO == (
        ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
    )


def test_run_web_starts_uvicorn_on_web_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("WEB_PORT", "8181")
    get_settings.cache_clear()
    try:
        assert web.run_web() == 0
    finally:
        get_settings.cache_clear()
    assert calls[0]["port"] == 8181
    assert "http://localhost:8181" in capsys.readouterr().out


def widget_source() -> str:
    """All of the widget's modules, one after the other."""
    return "\n".join(
        (WIDGET_JS.parent / name).read_text(encoding="utf-8") for name in web.WIDGET_MODULES
    )


def test_widget_never_parses_markup() -> None:
    source = widget_source()
    forbidden = (
        r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function"
    )
    assert not re.search(forbidden, source)
    assert 'attachShadow({ mode: "open" })' in source
    for testid in (
        "launcher",
        "panel",
        "close",
        "clear",
        "notice",
        "log",
        "message",
        "quick-reply",
        "typing",
        "status",
        "input",
        "send",
    ):
        assert f'"data-testid": "{testid}"' in source, testid


def test_demo_page_loads_nothing_from_elsewhere() -> None:
    page = DEMO.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page


def test_socket_io_client_comes_from_the_npm_registry() -> None:
    package = json.loads((ROOT / "package.json").read_text())
    assert package["private"] is True
    assert package["dependencies"]["socket.io-client"].startswith("^4.")
    assert "scripts" not in package
    lock = json.loads((ROOT / "package-lock.json").read_text())
    installed = {path: entry for path, entry in lock["packages"].items() if path}
    assert "node_modules/socket.io-client" in installed
    for path, entry in installed.items():
        assert entry.get("integrity", "").startswith("sha512-"), path
        resolved = entry.get("resolved")
        assert resolved is None or resolved.startswith("https://registry.npmjs.org/"), path
