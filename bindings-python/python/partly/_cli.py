"""The `partly` console script: the command line of the Rust core (crate `partly-cli`), the same
entry point as the `partly` binary of `cargo install partly-cli` and the npm package's bin."""

from __future__ import annotations

import signal
import sys
import threading
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    """Runs `partly` with `argv` (default: this process's arguments) and exits with its status."""
    args = ["partly", *(sys.argv[1:] if argv is None else argv)]
    # What Python buffered goes out before the command line writes to the same descriptors.
    sys.stdout.flush()
    sys.stderr.flush()
    # Ctrl-C is the command line's own (a clean stop, status 130): Python's handler, which would
    # raise KeyboardInterrupt once the run is over, is set aside for the run.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        code = _native.run_cli(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
