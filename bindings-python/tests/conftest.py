"""Fixtures: every test gets its own in-process mock (port 0) through partly.testing."""

from __future__ import annotations

from typing import Iterator

import partly
import pytest
from partly.testing import MockServer


@pytest.fixture
def mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture
def client(mock: MockServer) -> Iterator[partly.Client]:
    with mock.client() as c:
        yield c


@pytest.fixture
def aclient(mock: MockServer) -> partly.AsyncClient:
    return mock.async_client()


@pytest.fixture(autouse=True)
def no_partly_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the environment they need; nothing leaks in from the shell."""
    for name in ("PARTLY_API_KEY", "PARTLY_INTEGRATION_ID", "PARTLY_BASE_URL", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    for var in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
