"""`python -m app.cli ...` (and `torchrun -m app.cli ...`): the `realornn` command."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
