"""The OAuth install in a real browser: headless Chromium (Debian's, driven by Selenium) runs
``examples/install_flask.py`` against the in-process mock's authorize page.

Approve installs (the key stays on the server: not in a page, a cookie or a log line); Deny shows
a clear message; a tampered ``state`` is rejected with nothing traded; a replayed code shows the
SDK's error. One browser for the whole module. Screenshots of each page are taken on every run;
``PARTLY_UPDATE_SCREENSHOTS=1`` (``make screenshots``) writes them to docs/images/ for the README.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pathlib
import shutil
import struct
import sys
import tempfile
import threading
from types import ModuleType
from typing import Any, Iterator, List, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import partly
import pytest
from partly.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_INTEGRATION_NAME, DEMO_JOB_EXTERNAL_ID, MockServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "bindings-python" / "examples" / "install_flask.py"
SHOTS = ROOT / "docs" / "images"
WAIT = 15.0  # seconds a page may take to show what a step expects (never a sleep)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=640,360",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def _browser_or_skip() -> tuple[str, str]:
    """Chromium and its driver, or a skip that says why (a failure in CI, which must run these)."""
    chromium = os.environ.get("PARTLY_CHROMIUM") or shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    why = (
        "the browser tests need Debian's chromium and chromium-driver (apt-get install -y chromium "
        "chromium-driver; `make test` installs them where apt-get is usable)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {why}")
    pytest.skip(f"cannot run here: {why}")


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("install_flask", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["install_flask"] = module
    spec.loader.exec_module(module)
    return module


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class Rig(NamedTuple):
    app_url: str
    mock: MockServer
    app: Any
    installations: Any
    driver: Any
    logs: Captured
    shots: pathlib.Path


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    chromium, chromedriver = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    example = _load_example()
    logs = Captured()
    watched = [logging.getLogger(name) for name in ("install_flask", "partly")]  # the app's and the SDK's
    levels = [w.level for w in watched]
    for w in watched:
        w.addHandler(logs)
        w.setLevel(logging.DEBUG)
    mock = MockServer()
    server = example.serve(example.Flask("placeholder"))
    app_url = f"http://127.0.0.1:{server.server_port}"
    settings = example.Settings(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        app_url + example.CALLBACK_PATH,
        authorize_endpoint=mock.url,
        base_url=mock.url,
    )
    mock.register_redirect_url(settings.redirect_url)
    installations = example.Installations()
    app = example.create_app(settings, installations)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    profile = tempfile.mkdtemp(prefix="partly-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(WAIT)
    # The page area itself is 640x360 (a window size would include the browser's own frame).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 640, "height": 360, "deviceScaleFactor": 1, "mobile": False}
    )
    update = os.environ.get("PARTLY_UPDATE_SCREENSHOTS") == "1"
    shots = SHOTS if update else pathlib.Path(tempfile.mkdtemp(prefix="partly-shots-"))
    try:
        yield Rig(app_url, mock, app, installations, driver, logs, shots)
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
        thread.join(timeout=WAIT)
        mock.close()
        for w, level in zip(watched, levels):
            w.removeHandler(logs)
            w.setLevel(level)
        shutil.rmtree(profile, ignore_errors=True)
        if not update:
            shutil.rmtree(shots, ignore_errors=True)


def _wait_for(rig: Rig, element_id: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(rig.driver, WAIT).until(ec.visibility_of_element_located((By.ID, element_id)))


def _click(rig: Rig, element_id: str) -> None:
    """Clicks a link or button that leaves the page, and waits until the next page replaced it
    (reading the next page's elements before that could find the old page's, then go stale)."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    element = _wait_for(rig, element_id)
    element.click()
    WebDriverWait(rig.driver, WAIT).until(ec.staleness_of(element))


def _title(rig: Rig) -> str:
    return str(_wait_for(rig, "title").text)


def _shot(rig: Rig, name: str) -> None:
    png: bytes = rig.driver.get_screenshot_as_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (640, 360), "a small viewport keeps the README's images small"
    (rig.shots / f"install-python-{name}.png").write_bytes(png)


def _fresh_start(rig: Rig) -> None:
    """A new visitor: no session cookie; the Connect page."""
    rig.driver.get(rig.app_url)
    rig.driver.delete_all_cookies()
    rig.driver.get(rig.app_url)
    assert _title(rig) == "Connect your Partly account"


def _to_consent_page(rig: Rig) -> str:
    """Clicks Connect Partly; returns the consent page's URL (it carries this attempt's state)."""
    _click(rig, "connect")
    _wait_for(rig, "approve")
    url = str(rig.driver.current_url)
    assert url.startswith(rig.mock.authorize_endpoint + "?"), url
    return url


def _trades(rig: Rig) -> List[Any]:
    return rig.mock.requests("integrations.insert")


def test_approve_installs_and_keeps_the_key_on_the_server(rig: Rig) -> None:
    _fresh_start(rig)
    _shot(rig, "1-connect")
    _to_consent_page(rig)
    page = rig.driver.page_source
    assert DEMO_INTEGRATION_NAME in page and "repairer" in page
    assert _wait_for(rig, "deny").text == "Deny"
    _shot(rig, "2-consent")

    _click(rig, "approve")
    assert _title(rig) == "Partly is connected"
    integration_id = _wait_for(rig, "integration-id").text
    assert DEMO_JOB_EXTERNAL_ID in _wait_for(rig, "job").text
    assert urlsplit(rig.driver.current_url).query == "", "the code is gone from the address bar"
    _shot(rig, "3-installed")

    trades = _trades(rig)
    assert len(trades) == 1
    sent = trades[0].json()
    assert sent["client_id"] == DEMO_CLIENT_ID and sent["access_code"].startswith("ac_")
    api_key = rig.installations.key(integration_id)
    assert api_key and api_key.startswith("pk_")
    # The key is on the server only: not in the page, not in the session cookie, not in a log.
    assert api_key not in rig.driver.page_source
    serializer = rig.app.session_interface.get_signing_serializer(rig.app)
    for cookie in rig.driver.get_cookies():
        assert api_key not in cookie["value"]
        if cookie["name"] == rig.app.config["SESSION_COOKIE_NAME"]:
            assert api_key not in repr(serializer.loads(cookie["value"]))
    logged = "\n".join(rig.logs.lines)
    assert "installed integration" in logged and "GET /partly/callback 302" in logged
    for secret in (api_key, sent["access_code"], DEMO_CLIENT_SECRET):
        assert secret not in logged
    # The key works: the app read the seeded job with it.
    jobs = [r for r in rig.mock.requests("jobs.get") if r.headers.get("authorization") == f"Bearer {api_key}"]
    assert len(jobs) == 1


def test_deny_shows_a_clear_message_and_installs_nothing(rig: Rig) -> None:
    before = len(_trades(rig))
    _fresh_start(rig)
    _to_consent_page(rig)
    _click(rig, "deny")
    assert _title(rig) == "Partly was not connected"
    assert _wait_for(rig, "message").text == "You declined to connect Partly; nothing was installed."
    _shot(rig, "4-denied")
    assert len(_trades(rig)) == before


def test_a_tampered_state_is_rejected_with_nothing_traded(rig: Rig) -> None:
    before = len(_trades(rig))
    _fresh_start(rig)
    consent = urlsplit(_to_consent_page(rig))
    params = dict(parse_qsl(consent.query))
    params["state"] = partly.oauth.generate_state()  # an attacker's attempt, not this session's
    rig.driver.get(urlunsplit(consent._replace(query=urlencode(params))))
    _click(rig, "approve")
    assert _title(rig) == "Install rejected"
    assert "does not match the one this attempt sent" in _wait_for(rig, "message").text
    assert len(_trades(rig)) == before, "nothing was traded"
    assert rig.mock.requests("integrations.insert") == _trades(rig)


def test_a_replayed_code_shows_the_sdks_error(rig: Rig) -> None:
    used = [t.json()["access_code"] for t in _trades(rig)]
    if not used:  # this test alone: install once first
        test_approve_installs_and_keeps_the_key_on_the_server(rig)
        used = [t.json()["access_code"] for t in _trades(rig)]
    before = len(_trades(rig))
    _fresh_start(rig)
    state = dict(parse_qsl(urlsplit(_to_consent_page(rig)).query))["state"]
    # The browser comes back with this attempt's state but a code that was already traded.
    rig.driver.get(f"{rig.app_url}/partly/callback?{urlencode({'code': used[0], 'state': state})}")
    assert _title(rig) == "Install failed"
    message = _wait_for(rig, "message").text
    assert message.startswith("BadRequestError: "), message
    assert "invalid_access_code" in message and "already been used" in message
    assert used[0] not in rig.driver.page_source, "the SDK scrubs the code from its error"
    assert len(_trades(rig)) == before + 1, "the app traded once and the API refused"
