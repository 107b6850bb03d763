"""Helpers shared by the tests."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable, List, Optional, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 5.0) -> T:
    """Polls `condition` until it returns something truthy (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class ConnectProxy:
    """A small HTTP CONNECT proxy on 127.0.0.1:0 for the tests. It records the head of every
    request it receives and every byte it tunnels from the client, answers anything but
    ``CONNECT`` with 502 (and 407 without the expected ``Proxy-Authorization`` when ``auth`` is
    given), and connects every tunnel to 127.0.0.1 on the port asked for (so that
    ``mock.partly.test``, a name that is not loopback, reaches the mock)."""

    def __init__(self, auth: Optional[str] = None) -> None:
        self._auth = auth
        self._lock = threading.Lock()
        self._heads: List[str] = []
        self._tunnelled = bytearray()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="connect-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heads(self) -> List[str]:
        with self._lock:
            return list(self._heads)

    def saw(self, needle: str) -> bool:
        """Whether ``needle`` crossed the proxy in clear text (in a head or a tunnel)."""
        with self._lock:
            return needle in "".join(self._heads) or needle.encode() in bytes(self._tunnelled)

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ConnectProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                byte = conn.recv(1)
                if not byte:
                    return
                head += byte
            text = head.decode("latin-1")
            with self._lock:
                self._heads.append(text)
            verb, target = (text.split("\r\n", 1)[0].split(" ") + ["", ""])[:2]
            if verb != "CONNECT":
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                return
            if self._auth is not None:
                lines = [line.split(":", 1) for line in text.split("\r\n")[1:] if ":" in line]
                if not any(k.strip().lower() == "proxy-authorization" and v.strip() == self._auth for k, v in lines):
                    conn.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
                    return
            port = int(target.rsplit(":", 1)[1])
            try:
                upstream = socket.create_connection(("127.0.0.1", port))
            except OSError:
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                return
            with upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                down = threading.Thread(target=self._pump, args=(upstream, conn, False), daemon=True)
                down.start()
                self._pump(conn, upstream, True)
                down.join(timeout=10)

    def _pump(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if record:
                with self._lock:
                    self._tunnelled += data
            try:
                dst.sendall(data)
            except OSError:
                return
