"""`python -m partly ...`: the `partly` command line, as the console script runs it."""

from ._cli import main

main()
