"""``python -m goldenpath.cli``: the ``goldenpath`` command without its console script."""

import sys

from goldenpath.cli.main import main

sys.exit(main())
