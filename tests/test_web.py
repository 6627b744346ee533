"""The web app served by the API: deep links, caching and security headers, the JS budget, CORS."""

import gzip
import re
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError

import app.web
from app.main import create_app
from app.settings import Settings
from app.web import CSP, WEB_DIR
from tests.factories import API, assert_problem

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JS_BUDGET_GZIP = 60 * 1024


def index_html() -> str:
    path = WEB_DIR / "index.html"
    assert path.is_file(), "app/web/ has no build: run scripts/build-web"
    return path.read_text()


def first_visit_scripts(html: str) -> list[str]:
    """The JS a first visit downloads: the entry module and every chunk the HTML preloads."""
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    preloads = re.findall(r'<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"', html)
    return scripts + preloads


def unsettled(**overrides: object) -> Settings:
    return Settings(environment="test", _env_file=None, **overrides)  # type: ignore[arg-type]


async def test_the_app_is_served_at_the_root_with_a_strict_csp(client: AsyncClient) -> None:
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<div id="app">' in response.text
    assert response.headers["cache-control"] == "no-cache"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize("path", ["/jobs/42", "/dashboard", "/users/7", "/jobs/new", "/no/such/page"])
async def test_browser_navigations_to_app_paths_get_the_app(client: AsyncClient, path: str) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.text == index_html()
    assert response.headers["cache-control"] == "no-cache"
    assert "content-security-policy" in response.headers


async def test_hashed_assets_are_immutable(client: AsyncClient) -> None:
    html = index_html()
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers.get("etag")


async def test_fetches_to_unknown_api_paths_still_get_the_json_404(client: AsyncClient) -> None:
    for accept in ("application/json", "*/*"):
        response = await client.get(f"{API}/no-such-thing", headers={"Accept": accept})
        assert_problem(response, 404)
    assert_problem(await client.get("/assets/missing.js"), 404)
    assert_problem(await client.post("/jobs/42", headers=HTML), 404)


async def test_api_docs_and_health_win_over_the_app(client: AsyncClient) -> None:
    assert (await client.get("/health", headers=HTML)).json() == {"status": "ok"}
    assert (await client.get("/openapi.json", headers=HTML)).json()["info"]["title"] == "Marketplace API"
    docs = await client.get("/docs", headers=HTML)
    # the docs page, not the app's index.html (it has its own CSP, see tests/test_http.py)
    assert "swagger-ui" in docs.text and docs.headers["content-security-policy"] != CSP
    assert (await client.get("/redoc", headers=HTML)).status_code == 200
    assert (await client.get("/metrics", headers=HTML)).headers["content-type"].startswith("text/plain")
    assert (await client.get(f"{API}/categories", headers=HTML)).headers["content-type"] == "application/json"


def test_the_page_has_no_inline_script_and_loads_nothing_from_another_origin() -> None:
    html = index_html()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert " style=" not in html and "<style" not in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for asset in (WEB_DIR / "assets").iterdir():
        text = asset.read_text(errors="ignore")
        # No fonts, icons or scripts fetched from elsewhere (links in text content would be fine, none exist).
        assert not re.search(r"""url\(\s*["']?(https?:)?//""", text), asset.name
        assert "@import" not in text, asset.name


def test_first_visit_javascript_fits_the_budget() -> None:
    scripts = first_visit_scripts(index_html())
    assert scripts, "index.html names no script"
    total = sum(len(gzip.compress((WEB_DIR / s.lstrip("/")).read_bytes(), compresslevel=9)) for s in scripts)
    assert total <= JS_BUDGET_GZIP, f"first visit downloads {total} B of gzipped JS (budget {JS_BUDGET_GZIP})"


async def test_without_a_build_the_api_still_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(app.web, "WEB_DIR", tmp_path / "missing")
    bare = create_app(unsettled())
    async with AsyncClient(transport=ASGITransport(app=bare), base_url="http://test") as http:
        assert (await http.get("/health")).status_code == 200
        assert_problem(await http.get("/", headers=HTML), 404)


# CORS


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


async def test_no_cors_by_default(client: AsyncClient) -> None:
    response = await client.options(f"{API}/auth/session", headers={"Origin": "https://app.example.com", **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers
    plain = await client.get("/health", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in plain.headers


async def test_cors_allows_exactly_the_configured_origins_with_credentials() -> None:
    cors = create_app(unsettled(cors_origins="https://app.example.com, http://localhost:5173"))
    async with AsyncClient(transport=ASGITransport(app=cors), base_url="http://test") as http:
        for origin in ("https://app.example.com", "http://localhost:5173"):
            response = await http.options(f"{API}/auth/session", headers={"Origin": origin, **PREFLIGHT})
            assert response.status_code == 200
            assert response.headers["access-control-allow-origin"] == origin
            assert response.headers["access-control-allow-credentials"] == "true"
        evil = await http.options(f"{API}/auth/session", headers={"Origin": "http://evil.example", **PREFLIGHT})
        assert evil.headers.get("access-control-allow-origin") != "http://evil.example"
        simple = await http.get("/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("value", ["*", "https://app.example.com,*", "app.example.com", "https://app.example.com/"])
def test_the_service_refuses_a_wildcard_or_a_malformed_origin(value: str) -> None:
    with pytest.raises(ValidationError, match="APP_CORS_ORIGINS"):
        unsettled(cors_origins=value)


def test_cors_origins_are_read_comma_separated_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_CORS_ORIGINS", "https://a.example.com,https://b.example.com:8443")
    assert Settings(_env_file=None).cors_origins == ["https://a.example.com", "https://b.example.com:8443"]
    monkeypatch.setenv("APP_CORS_ORIGINS", "*")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
