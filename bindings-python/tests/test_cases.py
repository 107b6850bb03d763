"""The behaviour cases shared by the Rust, Python and Node suites (every file in core/tests/fixtures/
with a "cases" list: cases.json, faults.json), each run through the blocking and the asyncio
client. Their "about" texts define the schema; an expectation key this runner does not know
fails the case rather than being skipped."""

from __future__ import annotations

import asyncio
import decimal
import email.utils
import json
import logging
import os
import pathlib
import re
import socket
import time
import uuid
from typing import Any, Dict, Iterator, List, Optional

import partly
import pytest
from partly.testing import (
    DEMO_API_KEY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_INTEGRATION_ID,
    DEMO_JOB_ID,
    DEMO_SITE_ID,
    MockServer,
)

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "core" / "tests" / "fixtures"
CASES: List[Dict[str, Any]] = [
    case for path in sorted(FIXTURES.glob("*.json")) for case in json.loads(path.read_text()).get("cases", [])
]
BAD_KEY = "pk_wrong_key_0000000000"
KNOWN_EXPECT = {
    "result",
    "result_keys",
    "result_string_len",
    "error",
    "status",
    "code",
    "attempts",
    "retry_after",
    "message_contains",
    "body_contains",
    "secret_absent",
    "requests",
    "requests_method",
    "min_elapsed_ms",
    "max_elapsed_ms",
    "trace_id_matches_request",
    "result_numbers",
    "result_equals",
    "retryable",
    "detail",
    "message_once",
    "message_contains_node",
}
PLACEHOLDER = re.compile(r"\$(PAD\(\d+\)|[A-Z0-9_]+)")


def test_cases_are_there() -> None:
    names = [c["name"] for c in CASES]
    assert "get_seeded_job_by_external" in names
    assert len(set(names)) == len(names), "case names are unique"
    for case in CASES:
        unknown = set(case["expect"]) - KNOWN_EXPECT
        assert not unknown, f"{case['name']}: expectation keys this runner does not know: {unknown}"


def dead_url() -> str:
    """http://127.0.0.1:<a port nothing listens on>."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def substitute(value: Any, subs: Dict[str, str]) -> Any:
    """Replaces every $NAME and $PAD(n) inside strings (faults.json's "about")."""
    if isinstance(value, str):

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("PAD("):
                return "x" * int(name[4:-1])
            assert "$" + name in subs, f"unknown placeholder ${name} in {value!r}"
            return subs["$" + name]

        return PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [substitute(v, subs) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, subs) for k, v in value.items()}
    return value


def shows(text: str, secret: str) -> bool:
    """Whether `text` shows any 16-character window of `secret` (all of it when shorter)."""
    if len(secret) <= 16:
        return secret in text
    return any(secret[i : i + 16] in text for i in range(len(secret) - 15))


def json_strings(value: Any) -> Iterator[str]:
    """The strings (keys and values) of parsed JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from json_strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from json_strings(v)


class LogCapture(logging.Handler):
    """Every record of the "partly" logger, at DEBUG, while a case runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name} {record.getMessage()}")

    def __enter__(self) -> LogCapture:
        logger = logging.getLogger("partly")
        self.previous = logger.level
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("partly")
        logger.removeHandler(self)
        logger.setLevel(self.previous)


def assert_subset(expected: Any, actual: Any, path: str = "result") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for k, v in expected.items():
            assert k in actual, f"{path}: missing key {k!r} in {actual!r}"
            assert_subset(v, actual[k], f"{path}.{k}")
    else:
        assert actual == expected, f"{path}: expected {expected!r}, got {actual!r}"


class Runner:
    def __init__(self, case: Dict[str, Any], mock: MockServer) -> None:
        self.mock = mock
        subs = {
            "$DEMO_SITE_ID": DEMO_SITE_ID,
            "$DEMO_JOB_ID": DEMO_JOB_ID,
            "$DEMO_CLIENT_ID": DEMO_CLIENT_ID,
            "$DEMO_CLIENT_SECRET": DEMO_CLIENT_SECRET,
            "$DEMO_API_KEY": DEMO_API_KEY,
            "$DEMO_API_KEY_JSON_ESCAPED": "".join(f"\\u{ord(c):04x}" for c in DEMO_API_KEY),
            "$UNKNOWN_UUID": str(uuid.uuid4()),
        }
        text = json.dumps(case)
        if "$MINTED_CODE" in text:
            subs["$MINTED_CODE"] = mock.mint_access_code().access_code
        if "$HTTP_DATE_IN_2S" in text:
            subs["$HTTP_DATE_IN_2S"] = email.utils.formatdate(time.time() + 2, usegmt=True)
        if "$DEAD_URL" in text:
            subs["$DEAD_URL"] = dead_url()
        if "$BIG_JOB_10MB" in text:
            with mock.client() as c:
                job = c.jobs.get(id=DEMO_JOB_ID).to_dict()
            mock.reset()
            job["padding"] = "x" * 10485760
            subs["$BIG_JOB_10MB"] = json.dumps(job)
        self.case = substitute(case, subs)
        client = self.case.get("client", {})
        credentials = client.get("credentials", "demo")
        by_credentials: Dict[str, Dict[str, Any]] = {
            "demo": {"api_key": DEMO_API_KEY, "integration_id": DEMO_INTEGRATION_ID},
            "none": {"api_key": None, "integration_id": None},
            "bad_key": {"api_key": BAD_KEY, "integration_id": DEMO_INTEGRATION_ID},
        }
        self.client_kwargs = by_credentials[credentials]
        self.base_url = client.get("base_url", mock.url)
        self.calls = self.case.get("calls", 1)
        self.elapsed = 0.0
        options = self.case.get("options", {})
        self.options: Dict[str, Any] = {}
        if "timeout_ms" in options:
            self.options["timeout"] = options["timeout_ms"] / 1000
        if "max_retries" in options:
            self.options["max_retries"] = options["max_retries"]
        if "auth" in options:
            self.options["auth"] = options["auth"]
        if "fault" in self.case:
            mock.inject_fault(self.case["fault"])
        self.logs = LogCapture()

    def args(self) -> Dict[str, Any]:
        args = dict(self.case["call"]["args"])
        ids = args.get("identifiers")
        if isinstance(ids, dict) and "repeat" in ids:
            args["identifiers"] = [ids["repeat"]] * ids["count"]
        return args

    def run_sync(self) -> Any:
        with partly.Client(base_url=self.base_url, **self.client_kwargs) as c:
            for _ in range(self.calls - 1):
                self.call_sync(c)
            started = time.monotonic()
            try:
                return self.call_sync(c)
            finally:
                self.elapsed = time.monotonic() - started

    def call_sync(self, c: partly.Client) -> Any:
        method = self.case["call"]["method"]
        args = self.args()
        if method == "jobs.get":
            return c.jobs.get(**args, **self.options).to_dict()
        if method == "jobs.insert":
            return c.jobs.insert(**args, **self.options).to_dict()
        if method == "tier1.prepare":
            return c.tier1.prepare(args["identifiers"], **self.options).to_dict()
        if method == "integrations.insert":
            return c.integrations.insert(**args, **self.options).to_dict()
        if method == "call":
            return c.call(args["method"], args.get("body"), **self.options)
        return self.call_plain(method, args)

    def call_plain(self, method: str, args: Dict[str, Any]) -> Any:
        """The calls that need no client (the OAuth helpers), the same in both runners."""
        if method == "oauth.authorize_url":
            auth = partly.oauth.authorize_url(args["client_id"], args["redirect_url"], args.get("scopes"))
            return {"url": auth.url, "state": auth.state}
        if method == "oauth.verify_state":
            return partly.oauth.verify_state(args["expected"], args["received"])
        raise AssertionError(f"unknown call {method}")

    async def run_async(self) -> Any:
        async with partly.AsyncClient(base_url=self.base_url, **self.client_kwargs) as c:
            for _ in range(self.calls - 1):
                await self.call_async(c)
            started = time.monotonic()
            try:
                return await self.call_async(c)
            finally:
                self.elapsed = time.monotonic() - started

    async def call_async(self, c: partly.AsyncClient) -> Any:
        method = self.case["call"]["method"]
        args = self.args()
        if method == "jobs.get":
            return (await c.jobs.get(**args, **self.options)).to_dict()
        if method == "jobs.insert":
            return (await c.jobs.insert(**args, **self.options)).to_dict()
        if method == "tier1.prepare":
            return (await c.tier1.prepare(args["identifiers"], **self.options)).to_dict()
        if method == "integrations.insert":
            return (await c.integrations.insert(**args, **self.options)).to_dict()
        if method == "call":
            return await c.call(args["method"], args.get("body"), **self.options)
        return self.call_plain(method, args)

    def check(self, result: Any, error: Optional[partly.PartlyError]) -> None:
        expect = self.case["expect"]
        if "error" in expect:
            assert error is not None, f"expected {expect['error']}, got result {result!r}"
            assert type(error).__name__ == expect["error"], f"{type(error).__name__}: {error}"
            assert isinstance(error, getattr(partly, expect["error"]))
            for field in ("status", "code", "attempts"):
                if field in expect:
                    assert getattr(error, field) == expect[field], f"{field}: {error!r}"
            if "retry_after" in expect:
                assert error.retry_after == pytest.approx(float(expect["retry_after"]))
            if "message_contains" in expect:
                assert expect["message_contains"] in str(error)
            if "message_once" in expect:
                assert str(error).count(expect["message_once"]) == 1, str(error)
            if "retryable" in expect:
                assert error.retryable is expect["retryable"], repr(error)
            if "detail" in expect:
                assert error.detail == expect["detail"], repr(error)
            if "body_contains" in expect:
                assert error.body is not None and expect["body_contains"] in error.body
            for secret in expect.get("secret_absent", []):
                texts = [str(error), repr(error), error.message]
                texts += [t for t in (error.code, error.body, error.method, error.request_id, error.trace_id) if t]
                try:
                    texts += list(json_strings(json.loads(error.body or "")))
                except ValueError:
                    pass
                texts += self.logs.lines
                for text in texts:
                    assert not shows(text, secret), f"a secret shows in {text!r}"
            if expect.get("trace_id_matches_request"):
                last = self.mock.requests()[-1]
                traceparent = last.headers["traceparent"]
                assert error.trace_id == traceparent.split("-")[1]
        else:
            assert error is None, f"expected a result, got {error!r}"
            if "result" in expect:
                assert_subset(expect["result"], result)
            if "result_equals" in expect:
                assert result == expect["result_equals"]
            for pointer, text in expect.get("result_numbers", {}).items():
                value = result
                for part in pointer.strip("/").split("/"):
                    value = value[part]
                # Exact types where a float cannot hold the number (int, decimal.Decimal).
                assert isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool), value
                assert decimal.Decimal(str(value)) == decimal.Decimal(text), f"{pointer}: {value!r} is not {text}"
            for key in expect.get("result_keys", []):
                assert key in result
            for key, length in expect.get("result_string_len", {}).items():
                assert isinstance(result[key], str) and len(result[key]) == length
        if "min_elapsed_ms" in expect:
            assert self.elapsed * 1000 >= expect["min_elapsed_ms"], self.elapsed
        if "max_elapsed_ms" in expect:
            assert self.elapsed * 1000 <= expect["max_elapsed_ms"], self.elapsed
        if "requests" in expect:
            method = expect.get("requests_method") or (
                self.case["call"]["args"]["method"]
                if self.case["call"]["method"] == "call"
                else self.case["call"]["method"]
            )
            seen = self.mock.requests(method)
            assert len(seen) == expect["requests"], [(r.method, r.status) for r in self.mock.requests()]


def observe(language: str, runner: Runner, error: Optional[partly.PartlyError]) -> None:
    """With PARTLY_MATRIX_OUT=<file>, appends what was observed as one JSON line (the table of
    docs/reliability.md is made from the lines of the three languages)."""
    out = os.environ.get("PARTLY_MATRIX_OUT")
    if not out:
        return
    observed: Dict[str, Any] = {"outcome": "ok"}
    if error is not None:
        observed = {
            "outcome": type(error).__name__,
            "status": getattr(error, "status", None),
            "code": getattr(error, "code", None),
            "attempts": getattr(error, "attempts", None),
            "retry_after": getattr(error, "retry_after", None),
        }
    line = {
        "language": language,
        "case": runner.case["name"],
        "observed": observed,
        "requests": len(runner.mock.requests()),
        "elapsed_ms": round(runner.elapsed * 1000),
    }
    with open(out, "a") as f:
        f.write(json.dumps(line) + "\n")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_blocking(case: Dict[str, Any], mock: MockServer) -> None:
    runner = Runner(case, mock)
    result, error = None, None
    with runner.logs:
        try:
            result = runner.run_sync()
        except partly.PartlyError as e:
            error = e
    observe("python (blocking)", runner, error)
    runner.check(result, error)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_async(case: Dict[str, Any], mock: MockServer) -> None:
    runner = Runner(case, mock)
    result, error = None, None
    with runner.logs:
        try:
            result = asyncio.run(runner.run_async())
        except partly.PartlyError as e:
            error = e
    observe("python (asyncio)", runner, error)
    runner.check(result, error)
