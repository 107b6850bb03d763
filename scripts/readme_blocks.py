"""Runs or checks every fenced code block of every README (and CONTRIBUTING.md), as pasted.

`make test-readmes` (part of `make test`) runs it with the virtualenv's Python, after the Python
package and the Node native module are built. Blocks are picked by their fence's language, so a
new block is covered the moment it is written:

| fence            | what happens                                                                    |
|------------------|---------------------------------------------------------------------------------|
| `python`         | run with this Python (`pytest` when it defines `test_` functions)                |
| `js`             | run with `node` as CommonJS (`node --test` when it uses `node:test`)            |
| `mjs`            | run with `node` as an ES module                                                 |
| `ts`             | type-checked with `tsc --strict` against the package's declarations, then run   |
|                  | as an ES module after the types are stripped (Node's `--experimental-strip-types`|
|                  | where the running Node has it, otherwise type-checked only)                     |
| `rust`           | must be in a README the crate includes as doctests (`#[doc = include_str!]`)    |
| `sh`             | every `make` target named exists; every repository path named exists            |
| `text`           | every repository path a line starts with exists (layout trees)                  |
| `json`           | parses as JSON                                                                   |

Every block that runs gets a fresh `partly-mock` (reset before each block) and the environment
a user would have set: `PARTLY_BASE_URL` (the mock), `PARTLY_API_KEY` and
`PARTLY_INTEGRATION_ID` (the mock's demo credentials), so a quickstart runs unchanged. A fence
without a language, or with one this script does not know, fails. The only way out is an
explicit marker on the line before the fence, with a reason:

    <!-- readme-blocks: skip (needs a production API key) -->

Usage: `python scripts/readme_blocks.py [--list] [FILE...]`.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

ROOT = pathlib.Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "bindings-node"
FENCE = re.compile(r"^(\s*)```([^\s`]*)\s*$")
SKIP = re.compile(r"<!--\s*readme-blocks:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
RUN_TIMEOUT = 120


@dataclass
class Block:
    path: pathlib.Path
    line: int
    lang: str
    code: str
    skip: Optional[str]

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> List[pathlib.Path]:
    """Every tracked README.md, and CONTRIBUTING.md."""
    out = subprocess.run(
        ["git", "ls-files", "--", "*README.md", "README.md", "CONTRIBUTING.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted({ROOT / p for p in out if (ROOT / p).is_file()})


def blocks_of(path: pathlib.Path) -> List[Block]:
    lines = path.read_text().splitlines()
    found: List[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, info = m.group(1), m.group(2)
        start = i
        body: List[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        previous = lines[start - 1] if start > 0 else ""
        skip = SKIP.search(previous)
        lang = info.split(",")[0].lower()
        found.append(Block(path, start + 1, lang, "\n".join(body) + "\n", skip.group("reason") if skip else None))
    return found


def make_targets() -> Set[str]:
    targets: Set[str] = set()
    for mk in [ROOT / "Makefile", *ROOT.glob("bindings-*/*.mk")]:
        for line in mk.read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.-]+(?:\s+[A-Za-z0-9_.-]+)*)\s*:(?!=)", line)
            if m:
                targets.update(m.group(1).split())
    return targets


def repo_path_exists(token: str, base: pathlib.Path) -> bool:
    token = token.rstrip(",;:)").lstrip("(")
    return any((root / token).exists() for root in (ROOT, base, base / "examples"))


PATHLIKE = re.compile(
    r"^(\./)?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.<>*-]*)+$|^[A-Za-z0-9_-]+\.(py|js|mjs|ts|rs|toml|md|json|sh)$"
)


def check_sh(block: Block, targets: Set[str]) -> List[str]:
    """`make` targets exist; paths exist (relative to the repository, the README's directory, or
    where an earlier `cd` of the block went), unless an earlier `mkdir` of the block made them."""
    problems = []
    base = block.path.parent
    made: List[str] = []
    for raw in block.code.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if words[0] == "make":
            for t in words[1:]:
                if t.startswith("-") or "=" in t:
                    continue
                if t not in targets:
                    problems.append(f"`make {t}`: no such target in the Makefiles")
        if words[0] == "cd" and len(words) > 1:
            for root in (base, ROOT):
                if (root / words[1]).is_dir():
                    base = (root / words[1]).resolve()
                    break
            else:
                problems.append(f"cd {words[1]}: no such directory")
            continue
        if words[0] == "mkdir":
            made += [w for w in words[1:] if not w.startswith("-")]
            continue
        for w in words[1:]:
            if "<" in w or "://" in w or w.startswith("-") or "$" in w or w.startswith("/tmp/"):
                continue
            if any(w == m or w.startswith(m.rstrip("/") + "/") for m in made):
                continue
            if PATHLIKE.match(w) and not repo_path_exists(w, base):
                if words[0] in ("pip", "npm", "cargo") and "/" not in w:
                    continue
                problems.append(f"{w}: no such path (from {base.relative_to(ROOT) or '.'})")
    return problems


def check_text(block: Block) -> List[str]:
    problems = []
    for raw in block.code.splitlines():
        first = raw.split()[0] if raw.split() else ""
        if "/" in first and PATHLIKE.match(first.rstrip("/")) and not repo_path_exists(first, block.path.parent):
            problems.append(f"{first}: no such path")
    return problems


def check_rust(block: Block) -> List[str]:
    # A README the crate includes is run by `cargo test --doc`; anywhere else it would rot.
    crate = block.path.parent
    for lib in (crate / "src" / "lib.rs",):
        if lib.exists() and 'include_str!("../README.md")' in lib.read_text():
            return []
    return [f"a rust block in {block.path.relative_to(ROOT)}, which no crate runs as doctests"]


class Runner:
    def __init__(self) -> None:
        from partly.testing import DEMO_API_KEY, DEMO_INTEGRATION_ID, MockServer

        self.mock = MockServer()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PARTLY_")}
        self.env.update(
            PARTLY_BASE_URL=self.mock.url,
            PARTLY_API_KEY=DEMO_API_KEY,
            PARTLY_INTEGRATION_ID=DEMO_INTEGRATION_ID,
        )
        self.scratch = NODE_DIR / ".readme-blocks"  # inside the package: `require('partly')` resolves to it
        self.scratch.mkdir(exist_ok=True)
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="readme-blocks-"))
        self.node_strips_types = self._node_strips_types()

    def close(self) -> None:
        self.mock.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _node_strips_types(self) -> bool:
        done = subprocess.run(
            ["node", "--experimental-strip-types", "-e", ""], capture_output=True, text=True, timeout=30
        )
        return done.returncode == 0

    def _run(self, cmd: List[str], cwd: pathlib.Path) -> Tuple[int, str]:
        self.mock.reset()
        try:
            done = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return 1, f"did not finish within {RUN_TIMEOUT} s"
        return done.returncode, (done.stdout + done.stderr)[-4000:]

    def python(self, block: Block, n: int) -> List[str]:
        f = self.tmp / f"block_{n}.py" if "def test_" not in block.code else self.tmp / f"test_block_{n}.py"
        f.write_text(block.code)
        cmd = (
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(f)]
            if "def test_" in block.code
            else [sys.executable, str(f)]
        )
        rc, out = self._run(cmd, self.tmp)
        return [] if rc == 0 else [f"exited with {rc}:\n{out}"]

    def node(self, block: Block, n: int, ext: str) -> List[str]:
        f = self.scratch / f"block_{n}.{ext}"
        f.write_text(block.code)
        test = "node:test" in block.code
        cmd = ["node", "--test", str(f)] if test else ["node", str(f)]
        rc, out = self._run(cmd, self.scratch)
        return [] if rc == 0 else [f"exited with {rc}:\n{out}"]

    def ts(self, block: Block, n: int) -> List[str]:
        f = self.scratch / f"block_{n}.mts"
        f.write_text(block.code)
        config = self.scratch / f"tsconfig_{n}.json"
        base = json.loads((NODE_DIR / "tsconfig.json").read_text())
        base["compilerOptions"]["noUnusedLocals"] = False
        base["files"] = [f.name]
        base["compilerOptions"]["typeRoots"] = [str(NODE_DIR / "node_modules" / "@types")]
        config.write_text(json.dumps(base))
        tsc = NODE_DIR / "node_modules" / ".bin" / "tsc"
        done = subprocess.run(
            [str(tsc), "-p", str(config)], cwd=self.scratch, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
        if done.returncode != 0:
            return [f"tsc --strict:\n{done.stdout}{done.stderr}"]
        if not self.node_strips_types:
            return []
        rc, out = self._run(["node", "--experimental-strip-types", "--no-warnings", str(f)], self.scratch)
        return [] if rc == 0 else [f"exited with {rc}:\n{out}"]


def main(argv: List[str]) -> int:
    list_only = "--list" in argv
    files = [ROOT / a for a in argv if not a.startswith("--")] or documents()
    all_blocks = [b for f in files for b in blocks_of(f)]
    if list_only:
        for b in all_blocks:
            print(f"{b.where}\t{b.lang or '(none)'}\t{'skip: ' + b.skip if b.skip else ''}")
        return 0
    targets = make_targets()
    runner: Optional[Runner] = None
    failures: List[str] = []
    counts: Dict[str, int] = {}
    try:
        for n, b in enumerate(all_blocks):
            if b.skip:
                counts["skipped"] = counts.get("skipped", 0) + 1
                print(f"skip {b.where} ({b.lang}): {b.skip}")
                continue
            if b.lang in ("python", "js", "mjs", "ts") and runner is None:
                runner = Runner()
            if b.lang == "python":
                problems = runner.python(b, n) if runner else []
            elif b.lang in ("js", "javascript", "cjs"):
                problems = runner.node(b, n, "cjs") if runner else []
            elif b.lang == "mjs":
                problems = runner.node(b, n, "mjs") if runner else []
            elif b.lang in ("ts", "typescript"):
                problems = runner.ts(b, n) if runner else []
            elif b.lang == "rust":
                problems = check_rust(b)
            elif b.lang in ("sh", "shell", "bash", "console"):
                problems = check_sh(b, targets)
            elif b.lang == "text":
                problems = check_text(b)
            elif b.lang == "json":
                try:
                    json.loads(b.code)
                    problems = []
                except ValueError as e:
                    problems = [f"not JSON: {e}"]
            else:
                problems = [
                    f"a fence with language {b.lang!r}: give it one of python, js, mjs, ts, rust, sh, text, json "
                    "(or a skip marker with a reason)"
                ]
            counts[b.lang or "(none)"] = counts.get(b.lang or "(none)", 0) + 1
            status = "ok  " if not problems else "FAIL"
            print(f"{status} {b.where} ({b.lang or 'no language'})")
            failures.extend(f"{b.where} ({b.lang}): {p}" for p in problems)
    finally:
        if runner is not None:
            runner.close()
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"{len(all_blocks)} blocks in {len(files)} files: {summary}")
    if failures:
        print("\n".join(["", "README blocks that do not run as pasted:", *failures]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
