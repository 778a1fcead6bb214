def errors_of(response, status: int) -> list[tuple[str, str | None]]:
    """Assert the status and the API's error shape; the (code, attr) pairs."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] in {"validation_error", "client_error", "server_error"}
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
        assert error["detail"]
    return [(e["code"], e["attr"]) for e in body["errors"]]


def assert_error(response, status: int, code: str, attr: str | None = ...):
    pairs = errors_of(response, status)
    assert any(c == code and (attr is ... or a == attr) for c, a in pairs), pairs
    return response.json()["errors"]
