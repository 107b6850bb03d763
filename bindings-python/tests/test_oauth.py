"""The OAuth helpers."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import partly
import pytest


def test_authorize_url() -> None:
    auth = partly.oauth.authorize_url("my-client", "https://shop.example/cb?x=1", ["repairer"])
    parts = urlsplit(auth.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "app.partly.com", "/auth/integration/authorize")
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {
        "client_id": "my-client",
        "state": auth.state,
        "scopes": '["repairer"]',
        "redirect_url": "https://shop.example/cb?x=1",
    }
    assert len(auth.state) == 64
    assert auth.state not in repr(auth)
    url, state = auth  # a NamedTuple
    assert partly.oauth.authorize_url("my-client", "https://shop.example/cb", ["repairer"]).state != state
    assert "scopes=%5B%22repairer%22%5D" in partly.oauth.authorize_url("c", "https://s.example/cb", ["repairer"]).url
    custom = partly.oauth.authorize_url(
        "c", "https://s.example/cb", ("supplier",), endpoint="https://staging.example/auth"
    )
    assert custom.url.startswith("https://staging.example/auth?")


def test_authorize_url_mistakes() -> None:
    with pytest.raises(partly.ValidationError, match="client_id is empty"):
        partly.oauth.authorize_url("", "https://s.example/cb", ["repairer"])
    with pytest.raises(partly.ValidationError, match="redirect_url"):
        partly.oauth.authorize_url("c", "/cb", ["repairer"])
    # No default scope, as in Node and Rust: leaving scopes out is a ValidationError.
    with pytest.raises(partly.ValidationError, match="scopes is missing or empty"):
        partly.oauth.authorize_url("c", "https://s.example/cb")
    with pytest.raises(partly.ValidationError, match="scopes must be a list"):
        partly.oauth.authorize_url("c", "https://s.example/cb", "repairer")
    with pytest.raises(partly.ValidationError, match="scopes is missing or empty"):
        partly.oauth.authorize_url("c", "https://s.example/cb", [])
    with pytest.raises(partly.ValidationError, match=r"scopes\[0\] must be a str"):
        partly.oauth.authorize_url("c", "https://s.example/cb", [1])  # type: ignore[list-item]


def test_verify_and_generate_state() -> None:
    s = partly.oauth.generate_state()
    assert len(s) == 64 and int(s, 16) >= 0
    assert partly.oauth.verify_state(s, s)
    assert not partly.oauth.verify_state(s, s[:-1])
    assert not partly.oauth.verify_state("", "")
    # A missing or non-str received state never matches (as in Node); a non-str expected one is
    # the caller's mistake.
    assert partly.oauth.verify_state(s, None) is False
    assert partly.oauth.verify_state(s, 42) is False  # type: ignore[arg-type]
    with pytest.raises(partly.ValidationError, match="expected must be the state"):
        partly.oauth.verify_state(None, s)  # type: ignore[arg-type]


def test_parse_callback() -> None:
    cb = partly.oauth.parse_callback("https://shop.example/cb?code=ac_1&state=s1", "s1")
    assert cb.code == "ac_1" and cb.error is None and not cb.denied
    assert "ac_1" not in repr(cb)
    assert partly.oauth.parse_callback("/cb?code=ac_1&state=s1", "s1").code == "ac_1"
    assert partly.oauth.parse_callback("code=ac_1&state=s1", "s1").code == "ac_1"
    denied = partly.oauth.parse_callback("/cb?error=access_denied&error_description=no&state=s1", "s1")
    assert denied.denied and denied.code is None and denied.error_description == "no"
    with pytest.raises(partly.ValidationError, match="does not match") as e:
        partly.oauth.parse_callback("/cb?code=ac_1&state=s2", "s1")
    assert "ac_1" not in str(e.value)
    with pytest.raises(partly.ValidationError, match="has no `state`"):
        partly.oauth.parse_callback("/cb?code=ac_1", "s1")
    with pytest.raises(partly.ValidationError, match="expected_state is empty"):
        partly.oauth.parse_callback("/cb?code=ac_1&state=", "")
    with pytest.raises(partly.ValidationError, match="expected_state is required"):
        partly.oauth.parse_callback("/cb?code=ac_1&state=s", None)  # type: ignore[arg-type]


def _press(url: str, decision: str) -> str:
    """Loads the consent page at ``url`` and presses ``decision``: where the browser is sent."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    page = conn.getresponse().read().decode()
    consent = page.split('name="consent" value="', 1)[1].split('"', 1)[0]
    conn.request(
        "POST",
        parts.path,
        body=f"consent={consent}&decision={decision}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    answer = conn.getresponse()
    answer.read()
    conn.close()
    assert answer.status == 303
    return answer.getheader("location") or ""


def test_install_through_the_mock_authorize_page() -> None:
    from partly.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_JOB_EXTERNAL_ID, MockServer

    callback = "http://127.0.0.1:5999/partly/callback"
    with MockServer(redirect_urls=[callback]) as mock:
        assert mock.redirect_urls() == [callback]
        assert mock.authorize_endpoint == mock.url + "/auth/integration/authorize"
        for endpoint in (mock.url, mock.authorize_endpoint):
            auth = partly.oauth.authorize_url(DEMO_CLIENT_ID, callback, ["repairer"], endpoint=endpoint)
            assert auth.url.startswith(mock.authorize_endpoint + "?")
            back = _press(auth.url, "approve")
            cb = partly.oauth.parse_callback(back, auth.state)
            assert cb.code is not None
            installed = mock.client(api_key=None, integration_id=None).integrations.insert(
                access_code=cb.code, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET
            )
            job = mock.client(api_key=installed.api_key, integration_id=str(installed.integration_id)).jobs.get(
                external=DEMO_JOB_EXTERNAL_ID
            )
            assert job.external_id == DEMO_JOB_EXTERNAL_ID
        auth = partly.oauth.authorize_url(DEMO_CLIENT_ID, callback, ["repairer"], endpoint=mock.url)
        assert partly.oauth.parse_callback(_press(auth.url, "deny"), auth.state).denied
        mock.register_redirect_url("https://shop.example/cb")
        assert mock.redirect_urls() == [callback, "https://shop.example/cb"]
        with pytest.raises(partly.ValidationError, match="not an absolute http"):
            mock.register_redirect_url("shop.example/cb")
    with pytest.raises(partly.ValidationError, match="redirect_urls"):
        MockServer(redirect_urls=["nope"])
