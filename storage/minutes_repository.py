"""The queries of minutes (SPEC 13)"""

from __future__ import annotations

from storage.repositories import _Repository


class MinutesRepository(_Repository):
    """See the module docstring."""
