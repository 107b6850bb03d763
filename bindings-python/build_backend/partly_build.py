"""PEP 517 backend of the ``partly`` sdist: maturin's, with two guards.

Prebuilt wheels are the way to install ``partly``; this backend only runs when pip builds from
source (the sdist, or a checkout: ``pip install ./bindings-python``). Building needs a Rust
toolchain (cargo, Rust 1.85 or newer) and a C compiler. maturin would otherwise fetch a Rust
toolchain into a temporary directory on its own when cargo is missing; a build must never
download a toolchain silently, so this backend refuses with a message that says what to do.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any, Mapping, Optional

# Before maturin reads it: never install Rust behind the user's back.
os.environ["MATURIN_NO_INSTALL_RUST"] = "1"

import maturin  # noqa: E402  (the environment variable must be set first)

_MESSAGE = """
partly: building from source needs the Rust toolchain (cargo, Rust 1.85 or newer) and a C
compiler, and cargo was not found on PATH.

  * Most platforms have a prebuilt wheel, which needs neither: upgrade pip
    (`python -m pip install --upgrade pip`) and run `pip install --only-binary partly partly`.
    pip builds from source only when no wheel fits this platform or Python.
  * To build from source anyway, install Rust from https://rustup.rs (or your system's package
    manager), make sure `cargo --version` works in this shell, and run pip again.

Nothing was downloaded.
"""


def _require_cargo() -> None:
    if shutil.which("cargo") is None:
        sys.stderr.write(_MESSAGE)
        raise SystemExit(1)


def get_requires_for_build_wheel(config_settings: Optional[Mapping[str, Any]] = None) -> list[str]:
    _require_cargo()
    return list(maturin.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings: Optional[Mapping[str, Any]] = None) -> list[str]:
    _require_cargo()
    return list(maturin.get_requires_for_build_editable(config_settings))


def get_requires_for_build_sdist(config_settings: Optional[Mapping[str, Any]] = None) -> list[str]:
    return list(maturin.get_requires_for_build_sdist(config_settings))


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Optional[Mapping[str, Any]] = None
) -> str:
    _require_cargo()
    return str(maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Mapping[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    _require_cargo()
    return str(maturin.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str,
    config_settings: Optional[Mapping[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    _require_cargo()
    return str(maturin.build_editable(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: Optional[Mapping[str, Any]] = None) -> str:
    return str(maturin.build_sdist(sdist_directory, config_settings))
