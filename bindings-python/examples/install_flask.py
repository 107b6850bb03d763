"""An integrator's web app that installs a Partly integration (the OAuth install, Flask).

"Connect Partly" sends the browser to Partly's authorize page; Partly sends it back to
``/partly/callback`` with an access code and the ``state`` this attempt sent. The callback checks
the state (in constant time), trades the code with ``integrations.insert`` and keeps the API key
on the server: it never goes to the browser and never into a log line. The home page then shows
the installed integration and a job read with its key.

Rehearse it offline against a local Partly (``partly.testing.MockServer``, started in-process)::

    pip install partly flask
    python install_flask.py --mock        # then open the URL it prints

Against Partly, with the redirect URL registered for your integration::

    PARTLY_CLIENT_ID=... PARTLY_CLIENT_SECRET=... APP_URL=https://shop.example python install_flask.py

``APP_URL`` is where users reach this app (the redirect URL is ``APP_URL/partly/callback``);
``PARTLY_AUTHORIZE_URL`` and ``PARTLY_BASE_URL`` point it at another Partly (staging).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import partly
from flask import Flask, redirect, render_template_string, session, url_for
from flask import request as flask_request
from flask.typing import ResponseReturnValue
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("install_flask")

CALLBACK_PATH = "/partly/callback"


@dataclass(frozen=True)
class Settings:
    """What the app needs from Partly."""

    client_id: str
    client_secret: str
    redirect_url: str
    """``APP_URL`` + ``/partly/callback``: exactly as registered with Partly."""
    authorize_endpoint: Optional[str] = None
    """Another authorize page (staging, a mock); ``None``: Partly's."""
    base_url: Optional[str] = None
    """Another API (staging, a mock); ``None``: ``PARTLY_BASE_URL`` or Partly's."""
    job_reference: str = "CCC-2026-04817"
    """A job to show once installed (the mock's seeded job)."""

    def __repr__(self) -> str:
        return f"Settings(client_id={self.client_id!r}, redirect_url={self.redirect_url!r}, client_secret='***')"


class Installations:
    """The server-side store of installed integrations: integration id -> API key. A real app
    keeps these in its database (encrypted at rest); the browser only ever holds the id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: Dict[str, str] = {}

    def save(self, installed: partly.InstallResult) -> str:
        integration_id = str(installed.integration_id)
        with self._lock:
            self._keys[integration_id] = installed.api_key
        return integration_id

    def key(self, integration_id: str) -> Optional[str]:
        with self._lock:
            return self._keys.get(integration_id)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Body Shop — {{ title }}</title>
<style>
body{margin:0;font:15px/1.45 system-ui,sans-serif;background:#f6f7f9;color:#1d2330}
main{max-width:460px;margin:32px auto;background:#fff;border-radius:10px;padding:22px 26px;
box-shadow:0 2px 10px rgba(0,0,0,.08)}h1{font-size:20px;margin:0 0 10px}
.brand{font-weight:700;color:#2d6cdf;margin:0 0 12px}a.button{display:inline-block;background:#e4572e;
color:#fff;padding:9px 18px;border-radius:6px;text-decoration:none;font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px}dt{color:#6b7384}dd{margin:0}
.error{color:#b42318}code{word-break:break-all}
</style></head><body><main><p class="brand">Acme Body Shop</p>
<h1 id="title">{{ title }}</h1>
{% if message %}<p id="message" class="{{ 'error' if error else '' }}">{{ message }}</p>{% endif %}
{% if installed %}
<dl id="installed"><dt>Integration</dt><dd><code id="integration-id">{{ installed }}</code></dd>
{% if job %}<dt>Job</dt><dd id="job">{{ job.external_id }} · {{ job.status.type }}</dd>
<dt>Claim</dt><dd>{{ job.claim_number }}</dd>{% endif %}</dl>
{% else %}<p><a class="button" id="connect" href="{{ url_for('connect') }}">Connect Partly</a></p>{% endif %}
{% if error %}<p><a href="{{ url_for('home') }}">Back</a></p>{% endif %}
</main></body></html>"""


def page(
    title: str,
    *,
    message: str = "",
    error: bool = False,
    status: int = 200,
    installed: Optional[str] = None,
    job: Optional[partly.Job] = None,
) -> Tuple[str, int]:
    html = render_template_string(PAGE, title=title, message=message, error=error, installed=installed, job=job)
    return html, status


def create_app(settings: Settings, installations: Installations) -> Flask:
    app = Flask(__name__)
    # The session is a signed cookie: it holds this attempt's `state` and, once installed, the
    # integration id; never the API key.
    app.secret_key = os.environ.get("APP_SECRET_KEY") or secrets.token_bytes(32)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    def client(api_key: Optional[str] = None, integration_id: Optional[str] = None) -> partly.Client:
        return partly.Client(api_key=api_key, integration_id=integration_id, base_url=settings.base_url)

    @app.get("/")
    def home() -> ResponseReturnValue:
        integration_id = session.get("integration_id")
        key = installations.key(integration_id) if integration_id else None
        if integration_id is None or key is None:
            return page("Connect your Partly account")
        with client(key, integration_id) as partly_client:
            try:
                job = partly_client.jobs.get(external=settings.job_reference)
            except partly.NotFoundError:
                job = None
        return page("Partly is connected", installed=integration_id, job=job)

    @app.get("/connect")
    def connect() -> ResponseReturnValue:
        auth = partly.oauth.authorize_url(
            settings.client_id, settings.redirect_url, ["repairer"], endpoint=settings.authorize_endpoint
        )
        session["partly_state"] = auth.state  # new for every attempt
        return redirect(auth.url)

    @app.get(CALLBACK_PATH)
    def callback() -> ResponseReturnValue:
        expected = session.pop("partly_state", "")  # single use: a reload cannot trade twice
        try:
            answer = partly.oauth.parse_callback(flask_request.url, expected)  # constant-time state check
        except partly.ValidationError as e:
            log.warning("install rejected: %s", e)
            return page("Install rejected", message=str(e), error=True, status=400)
        if answer.code is None:
            message = (
                "You declined to connect Partly; nothing was installed."
                if answer.denied
                else f"Partly did not authorize the install: {answer.error_description or answer.error}"
            )
            return page("Partly was not connected", message=message, error=True, status=400)
        try:
            with client() as partly_client:
                installed = partly_client.integrations.insert(
                    access_code=answer.code, client_id=settings.client_id, client_secret=settings.client_secret
                )
        except partly.PartlyError as e:  # messages and reprs never hold the code or the secret
            log.warning("install failed: %s", e)
            return page("Install failed", message=f"{type(e).__name__}: {e}", error=True, status=502)
        session["integration_id"] = installations.save(installed)
        log.info("installed integration %s", installed.integration_id)
        return redirect(url_for("home"))  # drops the code from the address bar

    return app


class QuietRequestHandler(WSGIRequestHandler):
    """Logs each request without its query string: the callback's carries the access code."""

    def log_request(self, code: object = "-", size: object = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.info("%s %s %s", self.command, path, code)


def serve(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """A threaded server for `app` (port 0: a free one; see `.server_port`)."""
    return make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mock", action="store_true", help="run against an in-process partly.testing.MockServer")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    server_mock = None
    if args.mock:
        from partly.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, MockServer

        server_mock = MockServer()
        client_id, client_secret = DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        authorize_endpoint: Optional[str] = server_mock.authorize_endpoint
        base_url: Optional[str] = server_mock.url
    else:
        client_id, client_secret = os.environ["PARTLY_CLIENT_ID"], os.environ["PARTLY_CLIENT_SECRET"]
        authorize_endpoint = os.environ.get("PARTLY_AUTHORIZE_URL")
        base_url = None
    installations = Installations()
    server = serve(Flask(__name__), port=args.port)  # bound now: port 0 gets its real port
    app_url = os.environ.get("APP_URL", f"http://127.0.0.1:{server.server_port}").rstrip("/")
    settings = Settings(client_id, client_secret, app_url + CALLBACK_PATH, authorize_endpoint, base_url)
    if server_mock is not None:
        server_mock.register_redirect_url(settings.redirect_url)
    server.app = create_app(settings, installations)
    print(f"listening on {app_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if server_mock is not None:
            server_mock.close()


if __name__ == "__main__":
    main()
