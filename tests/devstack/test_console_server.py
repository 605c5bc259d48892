"""The local console server's pieces that need no browser (the served app: tests/e2e/console)."""

from __future__ import annotations

from agora_devstack.console import Hosting, hosting_headers, with_connect_sources
from agora_devstack.web_config import production_config


def test_local_origins_join_connect_src_only() -> None:
    policy = "default-src 'self'; connect-src 'self' https://a; frame-ancestors 'none'"
    assert with_connect_sources(policy, ["http://127.0.0.1:8080"]) == (
        "default-src 'self'; connect-src 'self' https://a http://127.0.0.1:8080; "
        "frame-ancestors 'none'"
    )
    assert with_connect_sources("default-src 'self'", ["http://x"]).endswith(
        "connect-src 'self' http://x"
    )


def test_firebase_json_rules_apply_in_order() -> None:
    hosting = Hosting(hosting_headers(), connect=[])
    page, asset = hosting.headers_for("/agents/x"), hosting.headers_for("/assets/index-1.js")
    assert page["Cache-Control"] == "no-cache"
    assert asset["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "frame-ancestors 'none'" in asset["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]


def test_the_deployed_config_calls_the_same_origin() -> None:
    config = production_config({"PROJECT_ID": "p", "FIREBASE_API_KEY": "k"})
    assert config["apiBase"] == ""
    assert config["firebase"] == {
        "apiKey": "k",
        "authDomain": "p.firebaseapp.com",
        "projectId": "p",
    }
    assert "authEmulator" not in config
