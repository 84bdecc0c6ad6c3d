"""Entry point for `python -m pigate`."""

from pigate.cli import main

raise SystemExit(main())
