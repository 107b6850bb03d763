#!/usr/bin/env python3
"""Builds and checks what the Partly SDK ships. `make dist` and `make dist-check` call this, and
so does the release workflow (.github/workflows/release.yml) on every platform, so a local build
and a release cannot drift apart.

  dist.py wheel [--target T]      the Python wheel (abi3, CPython >= 3.9), stripped; on Linux
                                  built with zig against glibc 2.17 (manylinux2014) or musl 1.2
  dist.py sdist                   the Python source distribution
  dist.py node [--target T]       the npm platform package partly-<platform> (the native module)
  dist.py npm                     the npm main package `partly` (JavaScript, declarations)
  dist.py crates                  the .crate files of `partly-wire`, `partly`, `partly-mock`, `partly-cli`
  dist.py all                     everything this machine can build (host target), then sizes
  dist.py npm-dirs [--check]      writes (or checks) bindings-node/npm/<platform>/
  dist.py check                   installs each artefact of dist/ in a clean environment with no
                                  Rust on PATH and runs the smoke scripts (scripts/smoke/)
  dist.py sizes                   the size of every artefact in dist/

Everything lands in dist/. Tools come from the package registries (the Makefile installs
maturin, ziglang and cargo-zigbuild into .venv; Node tools are fetched by npm into dist/tools).
Only the standard library is used here, so it runs on any Python 3.9+.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
NODE_DIR = ROOT / "bindings-node"
PY_DIR = ROOT / "bindings-python"
LICENSES = ("LICENSE-MIT", "LICENSE-APACHE")
# The published crates, in publishing order: partly-wire (the OAuth names both others use), then
# partly-mock (a dev-dependency of partly), then partly, then partly-cli (the `partly` command
# line, on partly and partly-mock).
CRATES = ("partly-wire", "partly-mock", "partly", "partly-cli")
# The oldest glibc the Linux gnu artefacts may need (manylinux2014 / CentOS 7, as pydantic-core
# and orjson ship theirs): Debian 8+, Ubuntu 14.04+, RHEL 7+, Amazon Linux 2.
GLIBC_FLOOR = "2.17"
# Node versions the npm packages are checked on (`engines.node` is >= 18), each with the npm it
# ships (None: this machine's node and npm, when its major version is the one named).
NODE_VERSIONS = {"18.20.8": "10.8.2", "20": None}
PNPM_VERSION = "10.33.0"
# The CPython versions the wheel is checked on: the oldest and the newest it supports here.
PYTHON_CHECK = ("3.9", "3.13")


def log(message: str) -> None:
    print(f"dist: {message}", flush=True)


def resolve(cmd: Sequence[object], env: Optional[Dict[str, str]] = None) -> List[str]:
    """The command with its program found on PATH (npm is npm.cmd on Windows)."""
    args = [str(c) for c in cmd]
    if os.sep not in args[0] and "/" not in args[0]:
        found = shutil.which(args[0], path=(env or os.environ).get("PATH"))
        if found:
            args[0] = found
    return args


def run(
    cmd: Sequence[object], cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None, **kw
) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(c) for c in cmd) + (f"   (in {cwd})" if cwd else ""))
    return subprocess.run(resolve(cmd, env), cwd=cwd, env=env, check=True, **kw)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


# ------------------------------------------------------------------------------------------
# Versions and platforms: one place each.


def version() -> str:
    """The one version of every crate and package: [workspace.package] of Cargo.toml."""
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    m = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M)
    if not m:
        raise SystemExit("dist: no version in [workspace.package] of Cargo.toml")
    return m.group(1)


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("host: "))


def node_package() -> dict:
    return json.loads((NODE_DIR / "package.json").read_text())


def node_targets() -> List[str]:
    """The Rust targets the npm package ships for (napi.targets of bindings-node/package.json)."""
    return list(node_package()["napi"]["targets"])


def npm_platform(triple: str) -> dict:
    """napi-rs's platform name and the package.json fields that make package managers install
    the platform package only where it runs (same rules as native.js at run time)."""
    cpu, _vendor, system, *abi = triple.split("-")
    arch = {"x86_64": "x64", "aarch64": "arm64", "i686": "ia32", "armv7": "arm"}.get(cpu, cpu)
    os_name = {"linux": "linux", "darwin": "darwin", "windows": "win32"}.get(system, system)
    name = f"{os_name}-{arch}" + (f"-{abi[0]}" if abi else "")
    fields: dict = {"os": [os_name], "cpu": [arch]}
    if os_name == "linux":
        fields["libc"] = ["glibc" if abi and abi[0] == "gnu" else "musl"]
    return {"name": name, "fields": fields}


def native_file(triple: str) -> str:
    """The file cargo makes of the partly-node cdylib on that target."""
    if "windows" in triple:
        return "partly_node.dll"
    if "apple" in triple:
        return "libpartly_node.dylib"
    return "libpartly_node.so"


# ------------------------------------------------------------------------------------------
# bindings-node/npm/<platform>/: the platform packages' manifests (napi-rs layout).


def platform_manifest(triple: str, ver: str) -> dict:
    main = node_package()
    plat = npm_platform(triple)
    name = f"{main['napi']['packageName']}-{plat['name']}"
    binary = f"{main['napi']['binaryName']}.{plat['name']}.node"
    manifest = {
        "name": name,
        "version": ver,
        "description": f"The native module of the `partly` npm package for {plat['name']} (prebuilt; installed by `partly` itself)",
        "license": main["license"],
        "repository": main["repository"],
        "homepage": main.get("homepage"),
        "author": main.get("author"),
        "main": binary,
        "files": [binary, "README.md", *LICENSES],
        **plat["fields"],
        "engines": main["engines"],
    }
    return manifest


def platform_readme(name: str) -> str:
    return (
        f"# {name}\n\n"
        "The prebuilt native module (the Rust core) of the [`partly`](https://www.npmjs.com/package/partly) "
        "npm package for one platform. Do not install it yourself: `npm install partly` installs the one "
        "that matches your platform, through `partly`'s `optionalDependencies`.\n\n"
        "Licensed under MIT OR Apache-2.0.\n"
    )


def cmd_npm_dirs(check: bool) -> None:
    """Writes bindings-node/npm/<platform>/{package.json,README.md}, or with --check fails when
    they differ from what package.json's napi.targets and the version say."""
    ver = version()
    if node_package()["version"] != ver:
        raise SystemExit(
            f"dist: bindings-node/package.json has version {node_package()['version']}, "
            f"Cargo.toml {ver}: the packages share one version"
        )
    wanted = {}
    for triple in node_targets():
        m = platform_manifest(triple, ver)
        plat = m["name"].split("-", 1)[1]
        wanted[NODE_DIR / "npm" / plat / "package.json"] = json.dumps(m, indent=2) + "\n"
        wanted[NODE_DIR / "npm" / plat / "README.md"] = platform_readme(m["name"])
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    extra = (
        [d for d in (NODE_DIR / "npm").glob("*") if d.is_dir() and d / "package.json" not in wanted]
        if (NODE_DIR / "npm").exists()
        else []
    )
    if check:
        if stale or extra:
            names = ", ".join(str(p.relative_to(ROOT)) for p in [*stale, *extra])
            raise SystemExit(f"dist: out of date: {names}; run `python3 scripts/dist.py npm-dirs`")
        log(f"bindings-node/npm/: {len(wanted) // 2} platform packages in step with package.json")
        return
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for d in extra:
        shutil.rmtree(d)
    log(f"wrote bindings-node/npm/ for {len(wanted) // 2} platforms")


# ------------------------------------------------------------------------------------------
# Builds.


def is_linux(triple: str) -> bool:
    return "-linux-" in triple


def cmd_wheel(target: Optional[str]) -> Path:
    triple = target or host_triple()
    args = ["maturin", "build", "--profile", "dist", "--out", DIST, "--target", triple]
    if is_linux(triple):
        # zig links against an old glibc (or musl) whatever this machine has.
        compat = "musllinux_1_2" if triple.endswith("musl") else "manylinux2014"
        args += ["--zig", "--compatibility", compat]
    before = set(DIST.glob("*.whl"))
    run(args, cwd=PY_DIR)
    built = sorted(set(DIST.glob("*.whl")) - before) or sorted(DIST.glob("*.whl"), key=lambda p: p.stat().st_mtime)[-1:]
    wheel = built[-1]
    check_wheel(wheel, triple)
    return wheel


def check_wheel(wheel: Path, triple: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        for lic in LICENSES:
            if not any(n.endswith(f".dist-info/licenses/{lic}") for n in names):
                raise SystemExit(f"dist: {wheel.name} lacks {lic}")
        native = [n for n in names if re.search(r"partly/_native\.(abi3\.so|pyd)$", n)]
        if not native:
            raise SystemExit(f"dist: {wheel.name} has no partly/_native module")
        if not wheel.name.startswith(f"partly-{version()}-cp39-abi3-"):
            raise SystemExit(f"dist: {wheel.name} is not an abi3 wheel for CPython >= 3.9")
        if is_linux(triple):
            with tempfile.TemporaryDirectory() as tmp:
                so = Path(z.extract(native[0], tmp))
                check_elf(so, triple)
    log(
        f"{wheel.name}: abi3, licenses, stripped, glibc <= {GLIBC_FLOOR}"
        if triple.endswith("gnu")
        else f"{wheel.name}: ok"
    )


def check_elf(path: Path, triple: str) -> None:
    """A Linux native module: stripped, and (gnu) no symbol version newer than GLIBC_FLOOR."""
    if shutil.which("objdump") is None or not triple.startswith(platform.machine().replace("arm64", "aarch64")):
        log(f"(no objdump for {triple}: symbol check left to the target's own job)")
        return
    symbols = subprocess.run(["objdump", "-T", path], check=True, capture_output=True, text=True).stdout
    if triple.endswith("gnu"):
        versions = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+)", symbols)}
        floor = tuple(int(x) for x in GLIBC_FLOOR.split("."))
        newer = sorted(v for v in versions if v > floor)
        if newer:
            raise SystemExit(f"dist: {path.name} needs GLIBC {'.'.join(map(str, newer[-1]))} > {GLIBC_FLOOR}")
    sections = subprocess.run(["objdump", "-h", path], check=True, capture_output=True, text=True).stdout
    if ".symtab" in sections or ".debug_info" in sections:
        raise SystemExit(f"dist: {path.name} is not stripped")


def cmd_sdist() -> Path:
    before = set(DIST.glob("*.tar.gz"))
    run(["maturin", "sdist", "--out", DIST], cwd=PY_DIR)
    sdist = DIST / f"partly-{version()}.tar.gz"
    if not sdist.exists():
        raise SystemExit(f"dist: maturin sdist made {sorted(set(DIST.glob('*.tar.gz')) - before)}, not {sdist.name}")
    with tarfile.open(sdist) as t:
        names = t.getnames()
    top = f"partly-{version()}"
    for need in ("pyproject.toml", "build_backend/partly_build.py", "core/src/lib.rs", "Cargo.lock", *LICENSES):
        if f"{top}/{need}" not in names:
            raise SystemExit(f"dist: the sdist lacks {need}")
    log(f"{sdist.name}: builds from source with Rust (guarded backend, licenses, lockfile)")
    return sdist


def cmd_node(target: Optional[str]) -> Path:
    """Builds the native module for `target` and packs the platform package partly-<platform>."""
    triple = target or host_triple()
    cmd_npm_dirs(check=True)
    if triple not in node_targets():
        raise SystemExit(f"dist: {triple} is not in napi.targets of bindings-node/package.json")
    env = dict(os.environ)
    if is_linux(triple):
        # zig links against glibc 2.17 (the `.2.17` suffix) or musl; a Node addon on musl must
        # link the C runtime dynamically, like node itself.
        zig_target = f"{triple}.{GLIBC_FLOOR}" if triple.endswith("gnu") else triple
        if triple.endswith("musl"):
            env["RUSTFLAGS"] = (env.get("RUSTFLAGS", "") + " -C target-feature=-crt-static").strip()
        run(["cargo", "zigbuild", "-p", "partly-node", "--profile", "dist", "--target", zig_target], cwd=ROOT, env=env)
    else:
        run(["cargo", "build", "-p", "partly-node", "--profile", "dist", "--target", triple], cwd=ROOT, env=env)
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    built = target_dir / triple / "dist" / native_file(triple)
    manifest = platform_manifest(triple, version())
    stage = DIST / "stage" / manifest["name"]
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copy2(built, stage / manifest["main"])
    if is_linux(triple):
        check_elf(stage / manifest["main"], triple)
    # What ships is what bindings-node/npm/<platform>/ holds (kept in step by `npm-dirs --check`).
    committed = NODE_DIR / "npm" / manifest["name"].split("-", 1)[1]
    shutil.copy2(committed / "package.json", stage / "package.json")
    shutil.copy2(committed / "README.md", stage / "README.md")
    for lic in LICENSES:
        shutil.copy2(ROOT / lic, stage / lic)
    return npm_pack(stage)


def npm_pack(stage: Path) -> Path:
    out = subprocess.run(
        resolve(["npm", "pack", "--json", "--pack-destination", DIST]),
        cwd=stage,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    info = json.loads(out)[0]
    tarball = DIST / info["filename"]
    log(f"{tarball.name}: {len(info['files'])} files, {info['size']} bytes packed, {info['unpackedSize']} unpacked")
    return tarball


def cmd_npm() -> Path:
    """The main package: the JavaScript, the declarations, README and licenses, and one optional
    dependency per platform package (what `napi prepublish` would add), pinned to this version."""
    main = node_package()
    ver = version()
    if main["version"] != ver:
        raise SystemExit(f"dist: bindings-node/package.json is {main['version']}, Cargo.toml {ver}")
    lifecycle = {"preinstall", "install", "postinstall", "prepare"} & set(main.get("scripts", {}))
    if lifecycle:
        raise SystemExit(f"dist: the npm package must not run scripts at install time: {sorted(lifecycle)}")
    if main.get("dependencies"):
        raise SystemExit(f"dist: the npm package must have no runtime dependencies: {main['dependencies']}")
    stage = DIST / "stage" / "partly"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in main["files"]:
        src = NODE_DIR / name
        if src.is_dir():
            shutil.copytree(src, stage / name)
        else:
            (stage / name).parent.mkdir(parents=True, exist_ok=True)  # bin/partly.js
            shutil.copy2(src, stage / name)  # copies the content of the LICENSE links
    main["optionalDependencies"] = {
        f"{main['napi']['packageName']}-{npm_platform(t)['name']}": ver for t in node_targets()
    }
    (stage / "package.json").write_text(json.dumps(main, indent=2) + "\n")
    tarball = npm_pack(stage)
    with tarfile.open(tarball) as t:
        names = t.getnames()
    bad = [n for n in names if n.endswith((".rs", ".node", "Cargo.toml", "build.rs"))]
    if bad:
        raise SystemExit(f"dist: {tarball.name} carries build inputs or binaries: {bad}")
    return tarball


def stale_package_sources(cargo_home: Path, ver: str) -> List[Path]:
    """What an earlier `cargo package` of this version left behind that cargo would reuse.

    `cargo package -p a -p b` verifies each crate against the others through a local registry
    overlay, extracted into CARGO_HOME/registry/src/-<hash>/<crate>-<version>: a local registry
    has no host, hence the leading "-", and the hash depends only on the target directory's path.
    Cargo takes an extracted copy with its `.cargo-ok` as the truth, so a second packaging of the
    same version on the same machine (a CI runner keeps its CARGO_HOME) compiles the dependants
    against the first run's sources. Found when CI failed on a function made public in between.
    """
    return sorted(p for name in CRATES for p in (cargo_home / "registry" / "src").glob(f"-*/{name}-{ver}"))


def cmd_crates() -> List[Path]:
    packages = [a for name in CRATES for a in ("-p", name)]
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    stale = stale_package_sources(cargo_home, version())
    for path in stale:
        log(f"removing {path}: an earlier packaging's sources, which cargo would reuse")
        shutil.rmtree(path)
    if stale:  # and what was built from them: cargo never checks a registry crate for changes
        run(["cargo", "clean", "--quiet", *packages], cwd=ROOT)
    run(["cargo", "package", *packages, "--allow-dirty"], cwd=ROOT)
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    out = []
    for name in CRATES:
        crate = target_dir / "package" / f"{name}-{version()}.crate"
        with tarfile.open(crate) as t:
            names = t.getnames()
        for lic in LICENSES:
            if f"{name}-{version()}/{lic}" not in names:
                raise SystemExit(f"dist: {crate.name} lacks {lic}")
        shutil.copy2(crate, DIST / crate.name)
        out.append(DIST / crate.name)
        log(f"{crate.name}: {crate.stat().st_size} bytes, {len(names)} files")
    return out


def cmd_all() -> None:
    DIST.mkdir(exist_ok=True)
    for old in [*DIST.glob("*.whl"), *DIST.glob("*.tar.gz"), *DIST.glob("*.tgz"), *DIST.glob("*.crate")]:
        old.unlink()
    cmd_npm_dirs(check=True)
    cmd_wheel(None)
    cmd_sdist()
    cmd_node(None)
    cmd_npm()
    cmd_crates()
    cmd_sizes()


def cmd_sizes() -> None:
    rows = []
    for path in sorted([*DIST.glob("*.whl"), *DIST.glob("*.tar.gz"), *DIST.glob("*.tgz"), *DIST.glob("*.crate")]):
        native = ""
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as z:
                native = "".join(
                    f"{i.file_size:,}" for i in z.infolist() if re.search(r"_native\.(abi3\.so|pyd)$", i.filename)
                )
        if path.name.endswith(".tgz"):
            with tarfile.open(path) as t:
                native = "".join(f"{m.size:,}" for m in t.getmembers() if m.name.endswith(".node"))
        rows.append((path.name, f"{path.stat().st_size:,}", native))
    width = max((len(r[0]) for r in rows), default=10)
    print(f"\n{'artefact':<{width}}  {'bytes':>12}  {'native module':>14}")
    for name, size, native in rows:
        print(f"{name:<{width}}  {size:>12}  {native:>14}")


# ------------------------------------------------------------------------------------------
# dist-check: each artefact installed where no Rust toolchain is on PATH.


def rustless_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment minus every PATH entry holding cargo or rustc, and minus rustup's
    variables: what a user without Rust has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP", "RUST"))}
    keep = [
        d
        for d in env.get("PATH", "").split(os.pathsep)
        if d and not (Path(d, "cargo").exists() or Path(d, "rustc").exists())
    ]
    env["PATH"] = os.pathsep.join(keep)
    if shutil.which("cargo", path=env["PATH"]) or shutil.which("rustc", path=env["PATH"]):
        raise SystemExit("dist: could not take Rust off PATH for the check")
    env.update(extra or {})
    return env


def find_python(ver: str) -> Path:
    """A CPython of version `ver` (3.9, 3.13): PARTLY_PYTHON_3_9 (the release workflow sets it),
    pyenv's, or python3.X on PATH."""
    named = os.environ.get("PARTLY_PYTHON_" + ver.replace(".", "_"))
    if named:
        return Path(named)
    roots = [Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"]
    for root in roots:
        for cand in sorted(root.glob(f"{ver}.*"), reverse=True):
            exe = cand / "bin" / "python3"
            if exe.exists():
                return exe
    exe = shutil.which(f"python{ver}")
    if exe:
        return Path(exe)
    raise SystemExit(f"dist: CPython {ver} is needed for the check (pyenv install {ver}); none found")


def check_python(work: Path) -> None:
    wheels = sorted(DIST.glob(f"partly-{version()}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"dist: expected one wheel in dist/, found {[w.name for w in wheels]}; run make dist")
    env = rustless_env({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"})
    versions = [v for v in os.environ.get("PARTLY_CHECK_PYTHON_VERSIONS", "").split(",") if v] or PYTHON_CHECK
    for ver in versions:
        py = find_python(ver)
        venv = work / f"py{ver}"
        run([py, "-m", "venv", venv], env=env)
        vpy = venv_python(venv)
        run([vpy, "-m", "pip", "install", "--no-index", "--quiet", wheels[0]], env=env)
        run([vpy, ROOT / "scripts" / "smoke" / "smoke.py"], cwd=work, env=env)
        # The wheel's `partly` console script: the command line of the same native module.
        run(
            [
                vpy,
                ROOT / "scripts" / "smoke" / "smoke_cli.py",
                venv / ("Scripts" if os.name == "nt" else "bin") / "partly",
            ],
            cwd=work,
            env=env,
        )
        ver = subprocess.run(
            [vpy, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True
        ).stdout.strip()
        log(f"wheel on CPython {ver}: installed with --no-index, no Rust on PATH, smoke passed")


def check_sdist(work: Path) -> None:
    """The sdist refuses to build without Rust (downloading nothing), and builds with it."""
    sdist = DIST / f"partly-{version()}.tar.gz"
    py = find_python(PYTHON_CHECK[-1])
    venv = work / "sdist-venv"
    run([py, "-m", "venv", venv])
    vpy = venv_python(venv)
    env = rustless_env({"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    # The backend's own guard: get_requires_for_build_wheel refuses before maturin runs.
    result = subprocess.run(
        [vpy, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", work / "sdist-wheel-norust", sdist],
        env=env,
        capture_output=True,
        text=True,
    )
    text = result.stdout + result.stderr
    if result.returncode == 0 or "building from source needs the Rust toolchain" not in text:
        raise SystemExit(f"dist: building the sdist without Rust did not fail with the guard's message:\n{text}")
    if "puccinialin" in text or "Rust not found, installing" in text:
        raise SystemExit(f"dist: building the sdist without Rust tried to fetch a toolchain:\n{text}")
    log("sdist without Rust: refused with the guard's message, nothing downloaded")
    # With Rust (a debug build: this checks that the sdist is complete, not the optimiser).
    env = dict(os.environ, MATURIN_PEP517_ARGS="--profile dev", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    env["CARGO_TARGET_DIR"] = str(Path(env["CARGO_TARGET_DIR"]) / "sdist-check")
    run([vpy, "-m", "pip", "install", "--quiet", sdist], env=env)
    run([vpy, ROOT / "scripts" / "smoke" / "smoke.py"], cwd=work, env=rustless_env())
    log("sdist with Rust: built from source, installed, smoke passed")


def check_checkout(work: Path) -> None:
    """What contributors do: pip install ./bindings-python, and npm install of a checkout's
    bindings-node (after `npm run build` there, which `make build-node` does)."""
    py = find_python(PYTHON_CHECK[-1])
    venv = work / "checkout-venv"
    run([py, "-m", "venv", venv])
    env = dict(os.environ, MATURIN_PEP517_ARGS="--profile dev", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["CARGO_TARGET_DIR"] = str(Path(env.get("CARGO_TARGET_DIR", ROOT / "target")) / "sdist-check")
    run([venv_python(venv), "-m", "pip", "install", "--quiet", PY_DIR], env=env)
    run([venv_python(venv), ROOT / "scripts" / "smoke" / "smoke.py"], cwd=work, env=rustless_env())
    log("pip install ./bindings-python: built from the checkout, smoke passed")
    built = list(NODE_DIR.glob("partly.*.node"))
    if not built:
        raise SystemExit("dist: no partly.<platform>.node in bindings-node/; run make build-node first")
    proj = work / "node-checkout"
    proj.mkdir()
    (proj / "package.json").write_text('{"name": "smoke", "private": true, "version": "1.0.0"}\n')
    run(["npm", "install", "--no-audit", "--no-fund", NODE_DIR], cwd=proj)
    linked = (proj / "node_modules" / "partly").resolve()
    if linked != NODE_DIR.resolve():
        raise SystemExit(f"dist: npm install of the checkout did not link it: node_modules/partly is {linked}")
    for smoke in ("smoke.js", "smoke.mjs"):
        shutil.copy2(ROOT / "scripts" / "smoke" / smoke, proj / smoke)
        run(["node", proj / smoke], cwd=proj, env=rustless_env({"PARTLY_SMOKE_PACKAGE_DIR": str(NODE_DIR.resolve())}))
    log("npm install of a checkout's bindings-node: linked, loads its own build, smoke passed")


class Registry:
    """A local npm registry holding only this SDK's packages: `partly` and every platform
    package. Metadata for all platforms, tarballs for those built here; a package manager on
    another platform would ask for another tarball, which is the point of the check."""

    def __init__(self, tarballs: List[Path]) -> None:
        self.docs: Dict[str, dict] = {}
        self.files: Dict[str, Path] = {}
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        ver = version()
        main = node_package()
        manifests = {
            f"{main['napi']['packageName']}-{npm_platform(t)['name']}": platform_manifest(t, ver)
            for t in node_targets()
        }
        for tgz in tarballs:
            with tarfile.open(tgz) as t:
                member = t.extractfile("package/package.json")
                if member is None:
                    raise SystemExit(f"dist: {tgz.name} has no package.json")
                manifest = json.loads(member.read())
            manifests[manifest["name"]] = manifest
            self.files[tgz.name] = tgz
        for name, manifest in manifests.items():
            tgz_name = f"{name}-{ver}.tgz"
            dist = {"tarball": f"{self.url}-/{tgz_name}"}
            if tgz_name in self.files:
                data = self.files[tgz_name].read_bytes()
                dist["shasum"] = hashlib.sha1(data).hexdigest()
                dist["integrity"] = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
            self.docs[name] = {
                "name": name,
                "dist-tags": {"latest": ver},
                "versions": {ver: {**manifest, "_id": f"{name}@{ver}", "dist": dist}},
            }
        self.requests: List[str] = []

    def _handler(self):
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                registry.requests.append(self.path)
                path = self.path.split("?", 1)[0]
                if path.startswith("/-/"):
                    f = registry.files.get(path.rsplit("/", 1)[-1])
                    if f is None:
                        return self._send(404, b'{"error":"not found"}')
                    return self._send(200, f.read_bytes(), "application/octet-stream")
                name = path.lstrip("/").replace("%2f", "/").replace("%2F", "/")
                doc = registry.docs.get(name)
                if doc is None:
                    return self._send(404, b'{"error":"not found"}')
                return self._send(200, json.dumps(doc).encode())

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> Registry:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def node_tool(work: Path, spec: str, bin_name: str) -> Path:
    """Installs an npm package (node@18, pnpm) into dist/tools and returns its binary."""
    prefix = DIST / "tools" / spec.replace("@", "-")
    exe = prefix / "node_modules" / ".bin" / bin_name
    if not exe.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "package.json").write_text('{"private": true}\n')
        run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", spec], cwd=prefix)
    return exe


def check_node(work: Path, target: Optional[str] = None, system_node: bool = False) -> None:
    ver = version()
    triple = target or host_triple()
    plat = npm_platform(triple)["name"]
    main_tgz = DIST / f"partly-{ver}.tgz"
    plat_tgz = DIST / f"partly-{plat}-{ver}.tgz"
    for f in (main_tgz, plat_tgz):
        if not f.exists():
            raise SystemExit(f"dist: {f.name} is missing; run make dist")
    nodes: Dict[str, tuple] = {}  # node version -> (node binary, npm's command line)
    here = subprocess.run(resolve(["node", "--version"]), capture_output=True, text=True).stdout.strip().lstrip("v")
    if system_node:  # the release workflow: the node and npm on PATH (set up per job)
        nodes[here] = (Path(shutil.which("node") or "node"), ["npm"])
    for nv, npm_version in ({} if system_node else NODE_VERSIONS).items():
        if npm_version is None and here.split(".")[0] == nv.split(".")[0]:
            nodes[here] = (Path(shutil.which("node") or "node"), ["npm"])
        else:
            node = node_tool(work, f"node@{nv}", "node")
            nodes[nv] = (node, [node, node_tool(work, f"npm@{npm_version}", "npm").resolve()])
    pnpm = node_tool(work, f"pnpm@{PNPM_VERSION}", "pnpm")
    with Registry([main_tgz, plat_tgz]) as registry:
        for nv, (node, npm) in nodes.items():
            for manager in ("npm", "pnpm"):
                proj = work / f"node{nv.split('.')[0]}-{manager}"
                proj.mkdir(parents=True)
                (proj / "package.json").write_text(
                    json.dumps({"name": "smoke", "private": True, "version": "1.0.0"}) + "\n"
                )
                env = rustless_env(
                    {
                        "PATH": f"{node.parent}{os.pathsep}{rustless_env()['PATH']}",
                        "npm_config_registry": registry.url,
                        "npm_config_cache": str(work / "npm-cache"),
                        "npm_config_userconfig": str(work / "npmrc"),
                        "npm_config_audit": "false",
                        "npm_config_fund": "false",
                        "npm_config_update_notifier": "false",
                    }
                )
                if manager == "npm":
                    run([*npm, "install", f"partly@{ver}"], cwd=proj, env=env)
                else:
                    env["npm_config_store_dir"] = str(work / "pnpm-store")
                    run([node, pnpm_entry(pnpm), "add", f"partly@{ver}", "--registry", registry.url], cwd=proj, env=env)
                installed = sorted(p.name for p in (proj / "node_modules").iterdir() if not p.name.startswith("."))
                if "@napi-rs" in installed or any(n.startswith("@") for n in installed):
                    raise SystemExit(
                        f"dist: {manager} installed more than partly and its platform package: {installed}"
                    )
                for smoke in ("smoke.js", "smoke.mjs"):  # inside the project: `partly` resolves from its node_modules
                    shutil.copy2(ROOT / "scripts" / "smoke" / smoke, proj / smoke)
                    run([node, proj / smoke], cwd=proj, env=env)
                # The package's `partly` bin (what `npx partly` runs), on the node of this check.
                bin_ = proj / "node_modules" / ".bin" / ("partly.cmd" if os.name == "nt" else "partly")
                run([sys.executable, ROOT / "scripts" / "smoke" / "smoke_cli.py", bin_], cwd=proj, env=env)
                log(f"node {nv} + {manager}: installed partly + partly-{plat} from the registry, no Rust, smoke passed")
        # Optional dependencies omitted: require('partly') says which package to install.
        proj = work / "node-omit-optional"
        proj.mkdir()
        (proj / "package.json").write_text('{"name": "smoke", "private": true, "version": "1.0.0"}\n')
        env = rustless_env(
            {
                "npm_config_registry": registry.url,
                "npm_config_cache": str(work / "npm-cache"),
                "npm_config_userconfig": str(work / "npmrc"),
                "npm_config_audit": "false",
                "npm_config_fund": "false",
            }
        )
        run(["npm", "install", "--omit=optional", f"partly@{ver}"], cwd=proj, env=env)
        result = subprocess.run(["node", "-e", "require('partly')"], cwd=proj, env=env, capture_output=True, text=True)
        want = f"install partly-{plat}@{ver}"
        if result.returncode == 0 or want not in result.stderr:
            raise SystemExit(
                f"dist: without the platform package, require('partly') must say '{want}':\n{result.stderr}"
            )
        log("npm --omit=optional: require('partly') names the platform package to install")
        other = [
            r
            for r in registry.requests
            if r.startswith("/-/") and plat not in r and not r.endswith(f"/partly-{ver}.tgz")
        ]
        if other:
            raise SystemExit(f"dist: package managers fetched other platforms' tarballs: {other}")


def pnpm_entry(pnpm_bin: Path) -> Path:
    """pnpm's JavaScript entry point, to run it with a chosen node."""
    pkg = pnpm_bin.parent.parent / "pnpm"
    return pkg / "bin" / "pnpm.cjs"


def check_crates(work: Path) -> None:
    """The crates' own tests, run from the packaged .crate files (not the repository)."""
    ver = version()
    for name in CRATES:
        with tarfile.open(DIST / f"{name}-{ver}.crate") as t:
            t.extractall(work / "crates")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "crate-check"
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    # Each crate's dependencies on the others as published (not yet on crates.io): the packaged ones.
    patches: List[str] = []
    for name in CRATES:
        crate = work / "crates" / f"{name}-{ver}"
        run(["cargo", "test", "--quiet", *patches], cwd=crate, env=env)
        patches += ["--config", f'patch.crates-io.{name}.path="{crate}"']
    log(f"{', '.join(CRATES)}: their tests pass from the packaged .crate files")


def cmd_check(parts: Sequence[str], target: Optional[str] = None, system_node: bool = False) -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="partly-dist-check-") as tmp:
        work = Path(tmp)
        (work / "npmrc").write_text("")
        steps = {
            "python": check_python,
            "sdist": check_sdist,
            "node": lambda w: check_node(w, target, system_node),
            "crates": check_crates,
            "checkout": check_checkout,
        }
        unknown = set(parts) - set(steps)
        if unknown:
            raise SystemExit(f"dist: unknown check {sorted(unknown)}; the checks are {', '.join(steps)}")
        for part in parts or steps:
            (work / part).mkdir()
            steps[part](work / part)
    log(f"dist-check passed in {time.monotonic() - started:.0f} s")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("wheel", "node"):
        p = sub.add_parser(name)
        p.add_argument("--target", help="Rust target triple (default: this machine's)")
    sub.add_parser("sdist")
    sub.add_parser("npm")
    sub.add_parser("crates")
    sub.add_parser("all")
    sub.add_parser("sizes")
    p = sub.add_parser("npm-dirs")
    p.add_argument("--check", action="store_true")
    p = sub.add_parser("check")
    p.add_argument("parts", nargs="*", help="python, sdist, node, crates, checkout (default: all)")
    p.add_argument("--target", help="node: the Rust target whose platform package to check (default: this machine's)")
    p.add_argument("--system-node", action="store_true", help="node: only the node and npm on PATH (no downloads)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = build_parser().parse_args(argv)
    DIST.mkdir(exist_ok=True)
    if args.cmd == "wheel":
        cmd_wheel(args.target)
    elif args.cmd == "node":
        cmd_node(args.target)
    elif args.cmd == "sdist":
        cmd_sdist()
    elif args.cmd == "npm":
        cmd_npm()
    elif args.cmd == "crates":
        cmd_crates()
    elif args.cmd == "all":
        cmd_all()
    elif args.cmd == "sizes":
        cmd_sizes()
    elif args.cmd == "npm-dirs":
        cmd_npm_dirs(args.check)
    elif args.cmd == "check":
        cmd_check(args.parts, args.target, args.system_node)


if __name__ == "__main__":
    main()
