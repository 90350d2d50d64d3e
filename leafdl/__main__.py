"""``python -m leafdl ...`` runs the ``leafdl`` command, which is also what ``torchrun -m leafdl``
needs: ``torchrun --nproc-per-node 2 -m leafdl train DATA --out RUN``."""

import sys

from leafdl.cli import main

if __name__ == "__main__":
    sys.exit(main())
