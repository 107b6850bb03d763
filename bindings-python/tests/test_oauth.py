"""The OAuth helpers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

import partly


def test_authorize_url() -> None:
    auth = partly.oauth.authorize_url("my-client", "https://shop.example/cb?x=1", ["repairer"])
    parts = urlsplit(auth.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "app.partly.com", "/auth/integration/authorize")
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"client_id": "my-client", "state": auth.state, "scopes": '["repairer"]',
                 "redirect_url": "https://shop.example/cb?x=1"}
    assert len(auth.state) == 64
    assert auth.state not in repr(auth)
    url, state = auth  # a NamedTuple
    assert partly.oauth.authorize_url("my-client", "https://shop.example/cb").state != state
    assert "scopes=%5B%22repairer%22%5D" in partly.oauth.authorize_url("c", "https://s.example/cb").url
    custom = partly.oauth.authorize_url("c", "https://s.example/cb", ("supplier",), endpoint="https://staging.example/auth")
    assert custom.url.startswith("https://staging.example/auth?")


def test_authorize_url_mistakes() -> None:
    with pytest.raises(partly.ValidationError, match="client_id is empty"):
        partly.oauth.authorize_url("", "https://s.example/cb")
    with pytest.raises(partly.ValidationError, match="redirect_url"):
        partly.oauth.authorize_url("c", "/cb")
    with pytest.raises(partly.ValidationError, match="scopes must be a list"):
        partly.oauth.authorize_url("c", "https://s.example/cb", "repairer")
    with pytest.raises(partly.ValidationError, match="scopes is empty"):
        partly.oauth.authorize_url("c", "https://s.example/cb", [])
    with pytest.raises(partly.ValidationError, match=r"scopes\[0\] must be a str"):
        partly.oauth.authorize_url("c", "https://s.example/cb", [1])  # type: ignore[list-item]


def test_verify_and_generate_state() -> None:
    s = partly.oauth.generate_state()
    assert len(s) == 64 and int(s, 16) >= 0
    assert partly.oauth.verify_state(s, s)
    assert not partly.oauth.verify_state(s, s[:-1])
    assert not partly.oauth.verify_state("", "")
    with pytest.raises(partly.ValidationError, match="received is required"):
        partly.oauth.verify_state(s, None)  # type: ignore[arg-type]
