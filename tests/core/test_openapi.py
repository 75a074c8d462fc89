"""/openapi.json documents the error envelope the API sends, for every status it can send."""

from __future__ import annotations

import httpx

COMMON = {"400", "401", "403", "404", "409", "413", "422", "429", "500", "503"}


async def test_every_operation_documents_the_error_envelope(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas  # FastAPI's own 422 shape
    assert {"error", "detail"} <= set(schemas["Error"]["required"])
    assert set(schemas["Error"]["properties"]) >= {"error", "detail", "code", "params", "fields"}
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) > 30
    for path, method, op in operations:
        missing = COMMON - set(op["responses"])
        assert not missing, (method, path, missing)
        for status in COMMON:
            content = op["responses"][status]["content"]["application/json"]
            if (method, path, status) == ("get", "/health", "503"):  # failing health says so in its own body
                assert content["schema"] == {"$ref": "#/components/schemas/Health"}
                continue
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, status)
        assert "Retry-After" in op["responses"]["429"]["headers"]


async def test_a_validation_error_has_the_documented_shape(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    problem = doc["components"]["schemas"]["FieldProblem"]
    r = await client.post("/api/auth/login", json={"email": "not an email"})
    assert r.status_code == 422
    body = r.json()
    assert set(body) <= set(doc["components"]["schemas"]["Error"]["properties"])
    assert body["fields"] and all(set(f) == set(problem["required"]) for f in body["fields"])
