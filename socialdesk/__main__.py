"""`python -m socialdesk`."""

from socialdesk.cli import main

main()
