"""``python -m xlplan``: the command line, where the ``xlplan`` script is not on PATH."""

import sys

from xlplan.app.cli import main

sys.exit(main())
