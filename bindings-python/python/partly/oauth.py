"""The OAuth install flow: send the user's browser to the authorize URL, check the ``state``
that comes back, then call ``client.integrations.insert(...)`` with the access code.

::

    auth = partly.oauth.authorize_url(CLIENT_ID, "https://shop.example/partly/callback", ["repairer"])
    session["partly_state"] = auth.state          # keep it for the callback
    return redirect(auth.url)

    # in the callback, /partly/callback?code=...&state=...
    callback = partly.oauth.parse_callback(request.url, session.pop("partly_state", ""))
    # ValidationError when the state does not match: reject, trade nothing
    if callback.denied:
        return "You declined the install."
    result = client.integrations.insert(access_code=callback.code,
                                        client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

``endpoint`` points the authorize URL at another page: a staging environment, or a local
``partly.testing.MockServer`` (its ``url`` as it is, or its ``authorize_endpoint``).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

from . import _native

__all__ = [
    "AuthorizeUrl",
    "Callback",
    "authorize_url",
    "parse_callback",
    "verify_state",
    "generate_state",
    "DEFAULT_AUTHORIZE_URL",
    "ERROR_ACCESS_DENIED",
]

DEFAULT_AUTHORIZE_URL: str = _native.DEFAULT_AUTHORIZE_URL
"""Partly's authorize page."""
ERROR_ACCESS_DENIED: str = _native.ERROR_ACCESS_DENIED
"""The redirect's ``error`` when the user clicked Deny."""


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
    scopes: Optional[Sequence[str]] = None,
    *,
    endpoint: Optional[str] = None,
) -> AuthorizeUrl:
    """The URL that starts an install, with a new random ``state``.

    ``scopes`` is what the integration asks for (``["repairer"]`` or ``["supplier"]``); it is
    required (there is no default scope: without it, a :class:`~partly.ValidationError`, as in
    Node and Rust);
    ``redirect_url`` must be exactly the one registered with Partly; ``endpoint`` replaces
    Partly's authorize page (staging, tests)."""
    if isinstance(scopes, tuple):
        scopes = list(scopes)
    url, state = _native.authorize_url(client_id, redirect_url, scopes, endpoint=endpoint)
    return AuthorizeUrl(url, state)


class Callback(NamedTuple):
    """What the redirect back from Partly's authorize page said, once its ``state`` matched:
    an access code to trade with ``client.integrations.insert``, or why there is none."""

    code: Optional[str]
    """The single-use access code (a secret, valid 15 minutes); ``None`` when ``error`` is set."""
    error: Optional[str]
    """Why no code was issued: ``"access_denied"`` when the user clicked Deny, or another
    OAuth error code."""
    error_description: Optional[str]
    """A sentence about ``error`` for a person, when the page gave one."""

    @property
    def denied(self) -> bool:
        """Whether the user declined the install (clicked Deny)."""
        return self.error == ERROR_ACCESS_DENIED

    def __repr__(self) -> str:
        code = "'***'" if self.code is not None else "None"
        return f"Callback(code={code}, error={self.error!r}, error_description={self.error_description!r})"


def parse_callback(url_or_query: str, expected_state: str) -> Callback:
    """Reads the redirect Partly sent the browser back with, after checking (in constant time)
    that its ``state`` is ``expected_state``, the one this attempt sent.

    ``url_or_query`` is what the callback request asked for: the whole URL (Flask's
    ``request.url``), a path with its query, or just the query string.

    Raises :class:`~partly.ValidationError` (nothing is sent anywhere) when the state is missing
    or does not match (a forged or stale redirect: reject it and trade nothing), when
    ``expected_state`` is empty, or when the redirect has neither a code nor an error."""
    code, error, description = _native.parse_callback(url_or_query, expected_state)
    return Callback(code, error, description)


def verify_state(expected: str, received: Optional[str]) -> bool:
    """Whether the ``state`` that came back equals the one sent, compared in constant time.
    An empty expected state never matches; a ``received`` that is missing (``None``) or not a
    str never matches (``False``, as in Node); an ``expected`` that is not a str is a
    :class:`~partly.ValidationError`."""
    return _native.verify_state(expected, received)


def generate_state() -> str:
    """A fresh random ``state``: 32 bytes from the OS's CSPRNG as 64 hex characters."""
    return _native.generate_state()
