"""`python -m tandem.cli ...` runs the `tandem` command."""

from tandem.cli.app import main

main()
