"""The official client for Partly's Integrations API (version 2026-01).

::

    import partly

    with partly.Client() as client:          # PARTLY_API_KEY, PARTLY_INTEGRATION_ID from the environment
        job = client.jobs.get(external="CCC-2026-04817")
        print(job.id, job.status.type)

``partly.AsyncClient`` has the same methods for asyncio. Errors are :class:`PartlyError`
subclasses (``partly.errors``); results are typed objects with ``to_dict()`` (``partly.models``);
``partly.oauth`` helps with the install flow; ``partly.diagnostics()`` reports the network path
to the API for support tickets; ``partly.testing.MockServer`` runs a local Partly
API for your tests. Log records go to the ``logging`` logger ``"partly"``.
"""

from __future__ import annotations

import logging as _logging
import os as _os
import warnings as _warnings

from . import _native, errors, models, oauth
from ._client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncClient, Client, Diagnostics, diagnostics
from ._native import API_VERSION, DEFAULT_BASE_URL, VERSION
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionError,
    DecodeError,
    NotFoundError,
    PartlyError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TimeoutError,
    ValidationError,
)
from .models import (
    InstallResult,
    Job,
    JobStatus,
    PrepareBatch,
    PrepareFailure,
    PrepareProgress,
    PrepareReport,
    PrepareResult,
    Response,
    ResponseInfo,
    VehicleIdentifier,
)

__version__ = VERSION

# A library logs but does not decide where logs go: without logging configured by the
# application, nothing is printed (records still reach any handler the application adds).
_logging.getLogger("partly").addHandler(_logging.NullHandler())

# The level of each name the core's `PARTLY_LOG` parsing gives (`partly::logging::LogLevel`).
_LOG_LEVELS = {
    "debug": _logging.DEBUG,
    "info": _logging.INFO,
    "warn": _logging.WARNING,
    "error": _logging.ERROR,
    "off": _logging.CRITICAL + 10,
}


def _log_from_env() -> None:
    """``PARTLY_LOG`` (``debug``, ``info``, ``warn``, ``error``, ``off``; parsed by the core, as
    Node's ``logLevel`` default is) sets the ``partly`` logger's level and, when that logger has
    no handler but the ``NullHandler``, adds one writing to stderr, as openai-python does with
    ``OPENAI_LOG``. A value that is not a level is one warning (naming the variable and the
    levels) and is ignored: ``import partly`` never fails for it."""
    try:
        level = _native.env_log_level(_os.environ.get("PARTLY_LOG"))
    except ValidationError as e:
        _warnings.warn(f"{e}; PARTLY_LOG is ignored", RuntimeWarning, stacklevel=3)
        return
    if level is None:
        return
    logger = _logging.getLogger("partly")
    logger.setLevel(_LOG_LEVELS[level])
    if level != "off" and all(isinstance(h, _logging.NullHandler) for h in logger.handlers):
        handler = _logging.StreamHandler()  # sys.stderr
        handler.setFormatter(_logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


_log_from_env()

__all__ = [
    "Client",
    "AsyncClient",
    "diagnostics",
    "Diagnostics",
    "PartlyError",
    "ValidationError",
    "ConnectionError",
    "TimeoutError",
    "DecodeError",
    "ApiError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ServerError",
    "Job",
    "JobStatus",
    "InstallResult",
    "PrepareResult",
    "PrepareProgress",
    "PrepareBatch",
    "PrepareFailure",
    "PrepareReport",
    "VehicleIdentifier",
    "Response",
    "ResponseInfo",
    "errors",
    "models",
    "oauth",
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "VERSION",
    "__version__",
]
