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

from . import errors, models, oauth
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
