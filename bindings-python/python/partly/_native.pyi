"""The Rust core of the ``partly`` package (``bindings-python/src``). Use ``partly``'s public
API instead: this module's surface may change between versions."""

import os
import uuid
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
    final,
    overload,
)

from partly.models import PrepareProgress

__all__ = [
    "Client",
    "MockServer",
    "authorize_url",
    "verify_state",
    "shapes",
    "generate_state",
    "run_cli",
    "env_log_level",
    "VERSION",
    "CORE_VERSION",
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_AUTHORIZE_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_CONCURRENCY",
    "DEMO_API_KEY",
    "DEMO_INTEGRATION_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SITE_ID",
    "DEMO_JOB_ID",
    "DEMO_JOB_EXTERNAL_ID",
    "DEMO_INTEGRATION_NAME",
    "ERROR_ACCESS_DENIED",
    "parse_callback",
]

_UuidLike = Union[str, uuid.UUID]
_Identifier = Union[str, Mapping[str, Any]]
_Progress = Callable[[PrepareProgress], object]

VERSION: str
CORE_VERSION: str
API_VERSION: str
DEFAULT_BASE_URL: str
DEFAULT_AUTHORIZE_URL: str
DEFAULT_TIMEOUT: float
DEFAULT_MAX_RETRIES: int
DEFAULT_BATCH_SIZE: int
DEFAULT_MAX_CONCURRENCY: int

DEMO_API_KEY: str
DEMO_INTEGRATION_ID: str
DEMO_CLIENT_ID: str
DEMO_CLIENT_SECRET: str
DEMO_SITE_ID: str
DEMO_JOB_ID: str
DEMO_JOB_EXTERNAL_ID: str
DEMO_INTEGRATION_NAME: str
ERROR_ACCESS_DENIED: str

@final
class Client:
    def __new__(
        cls,
        *,
        api_key: Optional[str] = None,
        integration_id: Optional[_UuidLike] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        allow_insecure_http: Optional[bool] = None,
        proxy: Union[str, Literal[False], None] = None,
        ca_bundle: Union[str, os.PathLike[str], None] = None,
    ) -> Client: ...
    @property
    def base_url(self) -> str: ...
    @property
    def integration_id(self) -> Optional[str]: ...
    @property
    def has_api_key(self) -> bool: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_retries(self) -> int: ...
    @property
    def user_agent(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def proxy(self) -> Optional[str]: ...
    @overload
    def diagnostics(self, *, blocking: Literal[True] = True) -> Dict[str, Any]: ...
    @overload
    def diagnostics(self, *, blocking: Literal[False]) -> Awaitable[Dict[str, Any]]: ...
    def close(self) -> None: ...
    @overload
    def jobs_get(
        self,
        *,
        id: Optional[_UuidLike] = None,
        external: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[True] = True,
    ) -> Dict[str, Any]: ...
    @overload
    def jobs_get(
        self,
        *,
        id: Optional[_UuidLike] = None,
        external: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[False],
    ) -> Awaitable[Dict[str, Any]]: ...
    @overload
    def jobs_insert(
        self,
        *,
        id: Optional[_UuidLike] = None,
        external: Optional[str] = None,
        data: Optional[Mapping[str, Any]] = None,
        if_exists: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[True] = True,
    ) -> Dict[str, Any]: ...
    @overload
    def jobs_insert(
        self,
        *,
        id: Optional[_UuidLike] = None,
        external: Optional[str] = None,
        data: Optional[Mapping[str, Any]] = None,
        if_exists: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[False],
    ) -> Awaitable[Dict[str, Any]]: ...
    @overload
    def tier1_prepare(
        self,
        identifiers: Sequence[_Identifier],
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[True] = True,
    ) -> Dict[str, Any]: ...
    @overload
    def tier1_prepare(
        self,
        identifiers: Sequence[_Identifier],
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[False],
    ) -> Awaitable[Dict[str, Any]]: ...
    def tier1_prepare_all(
        self,
        identifiers: Iterable[Any],
        *,
        batch_size: Optional[int] = None,
        max_concurrency: Optional[int] = None,
        max_rate: Optional[float] = None,
        deadline: Optional[float] = None,
        checkpoint: Optional[Union[str, os.PathLike[str]]] = None,
        adaptive: Optional[bool] = None,
        on_progress: Optional[_Progress] = None,
        on_batch: Optional[Callable[[Dict[str, Any]], object]] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
    ) -> Dict[str, Any]: ...
    @overload
    def integrations_insert(
        self,
        *,
        access_code: str,
        client_id: str,
        client_secret: str,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[True] = True,
    ) -> Dict[str, Any]: ...
    @overload
    def integrations_insert(
        self,
        *,
        access_code: str,
        client_id: str,
        client_secret: str,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        info: bool = False,
        blocking: Literal[False],
    ) -> Awaitable[Dict[str, Any]]: ...
    @overload
    def call(
        self,
        method: str,
        body: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        idempotent: Optional[bool] = None,
        auth: Optional[bool] = None,
        info: bool = False,
        blocking: Literal[True] = True,
    ) -> Any: ...
    @overload
    def call(
        self,
        method: str,
        body: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        idempotent: Optional[bool] = None,
        auth: Optional[bool] = None,
        info: bool = False,
        blocking: Literal[False],
    ) -> Awaitable[Any]: ...

@final
class MockServer:
    def __new__(
        cls,
        *,
        host: Optional[str] = None,
        port: Optional[int] = None,
        latency: Optional[float] = None,
        log_capacity: Optional[int] = None,
        tls: Optional[bool] = None,
        http1_only: Optional[bool] = None,
        redirect_urls: Optional[Sequence[str]] = None,
        rate_limit: Optional[float] = None,
        rate_burst: Optional[int] = None,
    ) -> MockServer: ...
    @property
    def url(self) -> str: ...
    @property
    def ca_path(self) -> Optional[str]: ...
    @property
    def authorize_endpoint(self) -> str: ...
    def register_redirect_url(self, url: str) -> None: ...
    def redirect_urls(self) -> List[str]: ...
    @property
    def closed(self) -> bool: ...
    def mint_access_code(self, expires_in: Optional[int] = None) -> Dict[str, Any]: ...
    def inject_fault(self, fault: Mapping[str, Any]) -> None: ...
    def clear_faults(self) -> None: ...
    def requests(self) -> List[Dict[str, Any]]: ...
    def prepared_identifiers(self) -> int: ...
    def prepared_stats(self) -> Dict[str, int]: ...
    def set_rate_limit(self, rate_limit: Optional[float], rate_burst: Optional[int] = None) -> None: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...

def authorize_url(
    client_id: str,
    redirect_url: str,
    scopes: Optional[Sequence[str]] = None,
    *,
    endpoint: Optional[str] = None,
) -> Tuple[str, str]: ...
def verify_state(expected: object, received: object) -> bool: ...
def shapes() -> List[Dict[str, Any]]: ...
def generate_state() -> str: ...
def run_cli(argv: List[str]) -> int: ...
def env_log_level(value: Optional[str]) -> Optional[str]: ...
def parse_callback(url_or_query: str, expected_state: str) -> Tuple[Optional[str], Optional[str], Optional[str]]: ...
