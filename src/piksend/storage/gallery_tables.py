"""Compatibility shim: the gallery's tables are now piksend.storage.tables.gallery.

Removed when the imports are rewritten to the new path.
"""

import sys

from piksend.storage.tables import gallery as _moved

sys.modules[__name__] = _moved
