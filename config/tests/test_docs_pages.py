"""API docs: assets from this server, a Content-Security-Policy, and a schema made once."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.test import APIRequestFactory

from config.schema import SchemaApi

pytestmark = pytest.mark.django_db


def csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.fixture
def generations(monkeypatch):
    SchemaApi.cache_clear()
    calls = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    yield calls
    SchemaApi.cache_clear()


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_it_serves_the_docs_with_every_asset_from_this_server(client, page):
    html = client.get(page).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert not [url for url in assets if not url.startswith("/")], assets
    for url in assets:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/", "/admin/login/", "/api/v1/auth/me/"])
def test_it_sends_a_policy_that_allows_scripts_from_this_server_only(client, page):
    policy = csp(client.get(page))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_it_loads_swagger_uis_start_up_script_from_a_url_not_inline(client):
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_it_generates_the_schema_once_per_language_whatever_is_asked(client, generations):
    for _ in range(3):
        assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200
    assert client.get("/api/schema/?lang=xx-unknown&version=1").status_code == 200
    assert client.get("/api/schema/?lang=ja").status_code == 200
    assert len(generations) == 2  # en and ja


def test_it_serves_the_same_document_drf_spectacular_would(client, generations):
    for accept in ("application/vnd.oai.openapi", "application/json"):
        request = APIRequestFactory().get("/api/schema/", HTTP_ACCEPT=accept)
        expected = SpectacularAPIView.as_view()(request).render()
        served = client.get("/api/schema/", HTTP_ACCEPT=accept)
        assert served.content == expected.content
        assert served["Content-Type"] == expected["Content-Type"]


def test_it_does_not_echo_a_version_parameter_into_the_document(client):
    assert b"injected" not in client.get("/api/schema/?version=injected").content
