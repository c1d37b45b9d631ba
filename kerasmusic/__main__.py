"""``python -m kerasmusic``: the ``kerasmusic`` command."""

import sys

from kerasmusic.cli import main

sys.exit(main())
