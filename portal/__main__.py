"""`python -m portal` is the `portal` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
