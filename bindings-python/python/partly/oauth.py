"""The OAuth install flow: send the user's browser to the authorize URL, check the ``state``
that comes back, then call ``client.integrations.insert(...)`` with the access code.

::

    auth = partly.oauth.authorize_url(CLIENT_ID, "https://shop.example/partly/callback")
    session["partly_state"] = auth.state          # keep it for the callback
    return redirect(auth.url)

    # in the callback, with ?code=...&state=...
    if not partly.oauth.verify_state(session.pop("partly_state", ""), request.args["state"]):
        abort(400)
    result = client.integrations.insert(access_code=request.args["code"],
                                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from . import _native

__all__ = ["AuthorizeUrl", "authorize_url", "verify_state", "generate_state", "DEFAULT_AUTHORIZE_URL"]

DEFAULT_AUTHORIZE_URL: str = _native.DEFAULT_AUTHORIZE_URL
"""Partly's authorize page."""


class AuthorizeUrl(NamedTuple):
    """An authorize URL and the random ``state`` it carries."""

    url: str
    """Where to send the user's browser."""
    state: str
    """Keep it (e.g. in the user's session) and compare it with the one Partly sends back."""

    def __repr__(self) -> str:
        return f"AuthorizeUrl(url=<{len(self.url)} chars>, state='***')"


def authorize_url(
    client_id: str,
    redirect_url: str,
    scopes: Sequence[str] = ("repairer",),
    *,
    endpoint: Optional[str] = None,
) -> AuthorizeUrl:
    """The URL that starts an install, with a new random ``state``.

    ``scopes`` is what the integration asks for (``["repairer"]`` or ``["supplier"]``);
    ``redirect_url`` must be exactly the one registered with Partly; ``endpoint`` replaces
    Partly's authorize page (staging, tests)."""
    if isinstance(scopes, tuple):
        scopes = list(scopes)
    url, state = _native.authorize_url(client_id, redirect_url, scopes, endpoint=endpoint)
    return AuthorizeUrl(url, state)


def verify_state(expected: str, received: str) -> bool:
    """Whether the ``state`` that came back equals the one sent, compared in constant time.
    An empty expected state never matches."""
    return _native.verify_state(expected, received)


def generate_state() -> str:
    """A fresh random ``state``: 32 bytes from the OS's CSPRNG as 64 hex characters."""
    return _native.generate_state()
