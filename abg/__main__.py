"""`python -m abg …`: the same as the `abg` command."""

from abg.cli import main

main()
