"""The packaging machinery (scripts/dist.py, the release workflow, the sdist's build backend)
agrees with itself: what `make dist` builds is what the release workflow builds, the npm
platform packages match napi.targets, and a source build without Rust refuses to go on."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import dist  # noqa: E402

WORKFLOW = (ROOT / ".github" / "workflows" / "release.yml").read_text()


def test_every_dist_command_of_the_release_workflow_is_one_dist_py_takes() -> None:
    commands = re.findall(r"scripts/dist\.py ([^\n]+)", WORKFLOW)
    assert len(commands) >= 8, commands
    parser = dist.build_parser()
    for command in commands:
        args = command.replace("${{ matrix.target }}", "x86_64-unknown-linux-gnu").split()
        parser.parse_args(args)  # SystemExit (a test failure) when the workflow drifted


def test_the_workflow_builds_and_checks_every_shipped_target() -> None:
    shipped = set(dist.node_targets())
    build = WORKFLOW.split("\n  build:\n", 1)[1].split("\n  build-common:", 1)[0]
    assert set(re.findall(r"target: ([\w-]+)", build)) == shipped
    checks = WORKFLOW.split("\n  check:\n", 1)[1].split("\n  publish:", 1)[0]
    assert set(re.findall(r"target: ([\w-]+)", checks)) == shipped


def test_platform_names_follow_napi_rs() -> None:
    names = {t: dist.npm_platform(t) for t in dist.node_targets()}
    assert names["x86_64-unknown-linux-gnu"] == {
        "name": "linux-x64-gnu",
        "fields": {"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]},
    }
    assert names["aarch64-unknown-linux-musl"]["fields"]["libc"] == ["musl"]
    assert names["aarch64-apple-darwin"] == {"name": "darwin-arm64", "fields": {"os": ["darwin"], "cpu": ["arm64"]}}
    assert names["x86_64-pc-windows-msvc"]["name"] == "win32-x64-msvc"


def test_npm_platform_packages_are_in_step_with_package_json() -> None:
    dist.cmd_npm_dirs(check=True)
    version = dist.version()
    assert json.loads((ROOT / "bindings-node" / "package.json").read_text())["version"] == version
    manifest = json.loads((ROOT / "bindings-node" / "npm" / "linux-x64-gnu" / "package.json").read_text())
    assert manifest["main"] == "partly.linux-x64-gnu.node" and manifest["version"] == version


def test_the_npm_package_has_no_install_script_and_no_runtime_dependency() -> None:
    pkg = json.loads((ROOT / "bindings-node" / "package.json").read_text())
    assert not {"preinstall", "install", "postinstall", "prepare"} & set(pkg.get("scripts", {}))
    assert not pkg.get("dependencies")
    assert "@napi-rs/cli" in pkg["devDependencies"]
    assert not [f for f in pkg["files"] if f.endswith((".rs", "Cargo.toml")) or f in ("src/", "build.rs")]


def test_the_sdist_backend_refuses_without_cargo_and_downloads_nothing(tmp_path: Path) -> None:
    # A child process whose PATH has no cargo: the guard's message, a failure, no toolchain.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import partly_build, os\n"
        "assert os.environ['MATURIN_NO_INSTALL_RUST'] == '1'\n"
        "partly_build.get_requires_for_build_wheel()\n"
    )
    env = dict(os.environ, PATH=str(tmp_path))
    env.pop("MATURIN_NO_INSTALL_RUST", None)
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "bindings-python" / "build_backend")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result
    assert "building from source needs the Rust toolchain (cargo" in result.stderr
    assert "pip install --only-binary partly partly" in result.stderr
    assert "Nothing was downloaded." in result.stderr


def test_the_sdist_backend_delegates_to_maturin_with_cargo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "bindings-python")  # a PEP 517 backend runs in the project
    sys.path.insert(0, str(ROOT / "bindings-python" / "build_backend"))
    try:
        backend = importlib.import_module("partly_build")
        if not __import__("shutil").which("cargo"):
            pytest.fail("cargo must be on PATH for the test suite")
        assert backend.get_requires_for_build_wheel() == []  # maturin asks for nothing more (pyo3)
        assert os.environ["MATURIN_NO_INSTALL_RUST"] == "1"
    finally:
        sys.path.remove(str(ROOT / "bindings-python" / "build_backend"))


def test_crates_are_published_in_dependency_order_with_the_command_line() -> None:
    published = re.findall(r"cargo publish -p ([\w-]+)", WORKFLOW)
    assert published == list(dist.CRATES) == ["partly-wire", "partly-mock", "partly", "partly-cli"]
    members = re.search(r"members = \[([^\]]*)\]", (ROOT / "Cargo.toml").read_text())
    assert members and '"cli"' in members.group(1)


def test_every_install_ships_the_partly_command() -> None:
    pkg = json.loads((ROOT / "bindings-node" / "package.json").read_text())
    assert pkg["bin"] == {"partly": "bin/partly.js"}
    assert "bin/partly.js" in pkg["files"]
    assert (ROOT / "bindings-node" / "bin" / "partly.js").read_text().startswith("#!/usr/bin/env node\n")
    pyproject = (ROOT / "bindings-python" / "pyproject.toml").read_text()
    assert '[project.scripts]\npartly = "partly._cli:main"' in pyproject
    cli = (ROOT / "cli" / "Cargo.toml").read_text()
    assert '[[bin]]\nname = "partly"' in cli


def test_an_earlier_packagings_sources_are_found_and_nothing_else(tmp_path: Path) -> None:
    ver = dist.version()
    src = tmp_path / "registry" / "src"
    stale = [src / "-22c3805da5a543b4" / f"{name}-{ver}" for name in dist.CRATES]
    kept = [
        src / "index.crates.io-1949cf8c6b5b557f" / f"partly-{ver}",  # a crates.io crate of that name
        src / "-22c3805da5a543b4" / "partly-0.0.1",  # another version
        src / "-22c3805da5a543b4" / "serde-1.0.0",
    ]
    for d in stale + kept:
        d.mkdir(parents=True)
        (d / ".cargo-ok").write_text('{"v":1}')
    assert dist.stale_package_sources(tmp_path, ver) == sorted(stale)
    assert dist.stale_package_sources(tmp_path / "nowhere", ver) == []
