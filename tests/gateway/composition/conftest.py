"""The composition tests share helper modules that live beside them (the suite uses importlib imports)."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
