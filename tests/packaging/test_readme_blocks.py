"""The README block runner (scripts/readme_blocks.py) finds blocks by fence language and fails
what cannot run: a wrong make target, a missing path, a fence without a known language; a skip
needs a marker with a reason. (`make test-readmes` runs it over every README.)"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import readme_blocks  # noqa: E402


def blocks(tmp_path: Path, text: str) -> list[readme_blocks.Block]:
    doc = ROOT / "tests" / "packaging" / f".readme-{tmp_path.name}.md"
    doc.write_text(text)
    try:
        return readme_blocks.blocks_of(doc)
    finally:
        doc.unlink()


def test_blocks_are_found_by_language_with_their_skip_marker(tmp_path: Path) -> None:
    found = blocks(
        tmp_path,
        "# t\n\n```python\nprint(1)\n```\n\n<!-- readme-blocks: skip (needs a production key) -->\n"
        "```js\nx()\n```\n\n```\nbare\n```\n",
    )
    assert [(b.lang, b.skip) for b in found] == [("python", None), ("js", "needs a production key"), ("", None)]
    assert found[0].code == "print(1)\n"


def test_shell_blocks_name_real_targets_and_paths(tmp_path: Path) -> None:
    targets = readme_blocks.make_targets()
    assert {"test", "lint", "fmt", "test-readmes", "dist-check"} <= targets
    (ok,) = blocks(tmp_path, "```sh\nmake test\ncd bindings-node\nnode examples/quickstart.js\n```\n")
    assert readme_blocks.check_sh(ok, targets) == []
    (bad,) = blocks(tmp_path, "```sh\nmake tset\npython scripts/nope.py\n```\n")
    problems = readme_blocks.check_sh(bad, targets)
    assert any("make tset" in p for p in problems) and any("scripts/nope.py" in p for p in problems)
    (made,) = blocks(tmp_path, "```sh\nmkdir -p out/x\nls out/x/y\n```\n")
    assert readme_blocks.check_sh(made, targets) == []


def test_text_trees_name_real_paths_and_rust_blocks_must_be_doctests(tmp_path: Path) -> None:
    (tree,) = blocks(tmp_path, "```text\ncore/src/   the core\nnot/here/   nothing\n```\n")
    assert readme_blocks.check_text(tree) == ["not/here/: no such path"]
    (rust,) = blocks(tmp_path, "```rust\nfn main() {}\n```\n")
    assert readme_blocks.check_rust(rust), "a rust block outside a doctest README is refused"


def test_every_readme_is_covered() -> None:
    docs = {p.relative_to(ROOT).as_posix() for p in readme_blocks.documents()}
    assert {"README.md", "CONTRIBUTING.md", "core/README.md", "bindings-python/README.md"} <= docs
    assert {"bindings-node/README.md", "tests/mock-server/README.md", "fuzz/README.md"} <= docs
