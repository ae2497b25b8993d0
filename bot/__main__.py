"""Allow ``python -m bot`` as a synonym for the ``npsbot`` command."""

from bot.cli import main

main()
