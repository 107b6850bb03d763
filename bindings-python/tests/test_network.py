"""HTTPS against ``MockServer(tls=True)``: trusted through ``ca_bundle`` and ``SSL_CERT_FILE``,
refused with a clear error when not; through an explicit and an environment proxy (a CONNECT
proxy of the test helpers) that never sees the key; HTTP/2 over TLS; ``partly.diagnostics()``."""

from __future__ import annotations

import asyncio
import logging
import pathlib

import partly
import pytest
from _support import ConnectProxy
from partly.testing import DEMO_API_KEY, DEMO_INTEGRATION_ID, DEMO_JOB_EXTERNAL_ID, MockServer

TEST_HOST = "mock.partly.test"  # in the TLS mock's certificate; not loopback, so it can be proxied


def proxied_url(mock: MockServer) -> str:
    return mock.url.replace("127.0.0.1", TEST_HOST)


def calls(client: partly.Client) -> None:
    job = client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
    assert job.external_id == DEMO_JOB_EXTERNAL_ID
    client.tier1.prepare([{"chassis_number": "JH4KA7561PC008269"}])
    with pytest.raises(partly.NotFoundError):
        client.jobs.get(external="no-such-job")


def test_https_through_ca_bundle_negotiates_http2() -> None:
    with MockServer(tls=True) as mock:
        assert mock.url.startswith("https://127.0.0.1:")
        assert mock.ca_path is not None
        with mock.client() as client:  # ca_bundle=mock.ca_path
            calls(client)
        assert [r.http_version for r in mock.requests()] == ["HTTP/2"] * 3
        ca = pathlib.Path(mock.ca_path)
        with partly.Client(
            base_url=mock.url, api_key=DEMO_API_KEY, integration_id=DEMO_INTEGRATION_ID, ca_bundle=ca
        ) as client:
            calls(client)


def test_http1_when_the_server_does_not_offer_http2() -> None:
    with MockServer(tls=True, http1_only=True) as mock, mock.client() as client:
        calls(client)
        assert {r.http_version for r in mock.requests()} == {"HTTP/1.1"}


def test_async_client_over_https() -> None:
    with MockServer(tls=True) as mock:

        async def run() -> None:
            async with mock.async_client() as client:
                job = await client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
                assert job.external_id == DEMO_JOB_EXTERNAL_ID
                d = await client.diagnostics()
                assert d["error"] is None and d["http_version"] == "HTTP/2"

        asyncio.run(run())


def test_untrusted_certificate_is_a_clear_connection_error() -> None:
    with MockServer(tls=True) as mock:
        client = partly.Client(base_url=mock.url, api_key=DEMO_API_KEY, integration_id=DEMO_INTEGRATION_ID)
        with pytest.raises(partly.ConnectionError) as info:
            client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        text = str(info.value)
        assert "certificate" in text and "not trusted" in text, text
        assert "ca_bundle" in text and "SSL_CERT_FILE" in text, text
        assert info.value.attempts == 1, "a refused certificate is not retried"
        assert not isinstance(info.value, partly.TimeoutError)
        assert mock.requests() == []


def test_trusted_through_ssl_cert_file(monkeypatch: pytest.MonkeyPatch) -> None:
    with MockServer(tls=True) as mock:
        assert mock.ca_path is not None
        monkeypatch.setenv("SSL_CERT_FILE", mock.ca_path)
        with partly.Client(base_url=mock.url, api_key=DEMO_API_KEY, integration_id=DEMO_INTEGRATION_ID) as client:
            calls(client)
            roots = client.diagnostics()["trusted_roots"]
        assert roots[0]["source"] == "system" and roots[0]["path"] == mock.ca_path


def test_ca_bundle_must_exist_and_hold_a_certificate(tmp_path: pathlib.Path) -> None:
    with pytest.raises(partly.ValidationError, match="no such file"):
        partly.Client(ca_bundle=tmp_path / "missing.pem")
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(partly.ValidationError, match="holds no certificate"):
        partly.Client(ca_bundle=str(empty))
    with pytest.raises(partly.ValidationError, match="ca_bundle must be a path"):
        partly.Client(ca_bundle=42)  # type: ignore[arg-type]


def test_explicit_proxy_sees_only_connect_never_the_key() -> None:
    with MockServer(tls=True) as mock, ConnectProxy() as proxy:
        with partly.Client(
            base_url=proxied_url(mock),
            api_key=DEMO_API_KEY,
            integration_id=DEMO_INTEGRATION_ID,
            ca_bundle=mock.ca_path,
            proxy=proxy.url,
        ) as client:
            assert client.proxy == proxy.url
            calls(client)
        heads = proxy.heads()
        assert heads and all(h.startswith(f"CONNECT {TEST_HOST}:") for h in heads), heads
        assert not proxy.saw(DEMO_API_KEY)
        assert len(mock.requests()) == 3


def test_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with MockServer(tls=True) as mock, ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with partly.Client(
            base_url=proxied_url(mock), api_key=DEMO_API_KEY, integration_id=DEMO_INTEGRATION_ID, ca_bundle=mock.ca_path
        ) as client:
            assert client.proxy == proxy.url
            calls(client)
            d = client.diagnostics()
            assert d["proxy"]["variable"] == "HTTPS_PROXY" and d["error"] is None, d
            assert d["timings"]["proxy_connect_ms"] is not None
        assert proxy.heads() and all(h.startswith("CONNECT ") for h in proxy.heads())
        assert not proxy.saw(DEMO_API_KEY)
        # proxy=False turns the environment's off.
        with partly.Client(base_url=proxied_url(mock), ca_bundle=mock.ca_path, proxy=False) as client:
            assert client.proxy is None


def test_plain_http_loopback_is_never_proxied(monkeypatch: pytest.MonkeyPatch, mock: MockServer) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        with mock.client() as client:
            assert client.proxy is None
            client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        with mock.client() as client:
            pass
        explicit = partly.Client(
            base_url=mock.url, api_key=DEMO_API_KEY, integration_id=DEMO_INTEGRATION_ID, proxy=proxy.url
        )
        explicit.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        assert proxy.heads() == []
        assert not proxy.saw(DEMO_API_KEY)


def test_proxy_credentials_are_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="partly")
    # "alice:pr0xy-s3cret" in base64
    with MockServer(tls=True) as mock, ConnectProxy(auth="Basic YWxpY2U6cHIweHktczNjcmV0") as proxy:
        good = f"http://alice:pr0xy-s3cret@127.0.0.1:{proxy.port}"
        with partly.Client(
            base_url=proxied_url(mock),
            api_key=DEMO_API_KEY,
            integration_id=DEMO_INTEGRATION_ID,
            ca_bundle=mock.ca_path,
            proxy=good,
        ) as client:
            calls(client)
            assert "pr0xy-s3cret" not in repr(client) and "alice" not in repr(client)
            assert client.proxy == f"http://***@127.0.0.1:{proxy.port}"
        bad = f"http://alice:wr0ng-s3cret@127.0.0.1:{proxy.port}"
        client = partly.Client(
            base_url=proxied_url(mock),
            api_key=DEMO_API_KEY,
            integration_id=DEMO_INTEGRATION_ID,
            ca_bundle=mock.ca_path,
            proxy=bad,
            max_retries=0,
        )
        with pytest.raises(partly.ConnectionError) as info:
            client.jobs.get(external=DEMO_JOB_EXTERNAL_ID)
        shown = " ".join([str(info.value), repr(info.value), repr(vars(info.value)), repr(client.diagnostics())])
        shown += " ".join(r.getMessage() for r in caplog.records)
        assert "proxy" in str(info.value)
        for secret in ("wr0ng-s3cret", "pr0xy-s3cret", "alice"):
            assert secret not in shown, secret
        with pytest.raises(partly.ValidationError) as bad_scheme:
            partly.Client(proxy="socks5://alice:hunter2-pw@127.0.0.1:1")
        assert "hunter2-pw" not in str(bad_scheme.value)


def test_plain_http_to_a_localhost_subdomain_is_refused() -> None:
    with pytest.raises(partly.ValidationError, match=r"\*\.localhost"):
        partly.Client(base_url="http://api.localhost:8080")
    partly.Client(base_url="http://localhost:8080")


def test_diagnostics() -> None:
    with MockServer(tls=True) as mock:
        d = partly.diagnostics(base_url=mock.url, ca_bundle=mock.ca_path, proxy=False)
        assert d["error"] is None, d
        assert d["sdk_version"] == partly.VERSION
        assert d["base_url"] == mock.url
        assert d["http_version"] == "HTTP/2" and d["tls_version"] == "TLSv1_3"
        assert d["proxy"] == {
            "url": None,
            "source": "none",
            "variable": None,
            "bypassed": "proxies turned off (no_proxy)",
        }
        assert [r["source"] for r in d["trusted_roots"]] == ["system", "ca_bundle"]
        t = d["timings"]
        for step in ("dns_ms", "tcp_ms", "tls_ms", "first_byte_ms"):
            value = t[step]
            assert isinstance(value, float) and value >= 0, step
        assert d["clock_offset_ms"] is not None and abs(d["clock_offset_ms"]) <= 2000
        assert all("authorization" not in r.headers for r in mock.requests())
        # Untrusted: says at which step and why, without raising.
        d = partly.diagnostics(base_url=mock.url, proxy=False)
        assert d["error"] is not None and d["error"]["stage"] == "tls"
        assert "not trusted" in d["error"]["message"]
    with pytest.raises(partly.ValidationError):
        partly.diagnostics(base_url="ftp://nope")
