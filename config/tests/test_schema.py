import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_openapi_schema_generates_with_no_warnings(tmp_path, capsys):
    out = tmp_path / "schema.yml"
    # --fail-on-warn turns every drf-spectacular warning into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/auth/login/" in text
    assert "access_token" in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_the_schema_documents_error_responses(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    login = schema["paths"]["/api/v1/auth/login/"]["post"]["responses"]
    assert {"200", "400", "401", "429"} <= login.keys()
    me = schema["paths"]["/api/v1/auth/me/"]["get"]["responses"]
    assert {"200", "401"} <= me.keys()


@pytest.mark.django_db
def test_it_describes_resources_to_api_readers_not_how_serializers_work(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    # A component without its own docstring inherits its base class's, written for our engineers.
    leaked = [
        name
        for name, component in schema["components"]["schemas"].items()
        if "serializer" in component.get("description", "").lower()
    ]
    assert leaked == []
