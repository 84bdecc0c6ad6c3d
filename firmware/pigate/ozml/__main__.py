"""`python -m pigate.ozml FILE [--context NAME]`: the OzML linter without the rest of the CLI."""

import sys

from pigate.ozml.lint import main

sys.exit(main())
