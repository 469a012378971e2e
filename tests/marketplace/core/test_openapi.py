def test_spec_is_served_and_documents_every_route(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items()
                  for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1", "/healthz", "/readyz")):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = path.replace("{int:", "{").replace("{string:", "{")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_protected_operations_declare_security_and_401(client):
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/v1/users/me"]["get"]
    assert op["security"] == [{"bearerAuth": []}]
    assert "401" in op["responses"]
    admin = spec["paths"]["/api/v1/admin/users"]["get"]
    assert {"401", "403"} <= set(admin["responses"])


def test_docs_page(client):
    resp = client.get("/api/docs")
    assert resp.status_code == 200 and b"swagger" in resp.data.lower()
