"""``python -m social_dilemmas.cli`` is the ``social-dilemmas`` command."""

import sys

from social_dilemmas.cli import main

sys.exit(main())
