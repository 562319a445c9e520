"""The queries of attendance (SPEC 13)"""

from __future__ import annotations

from storage.repositories import _Repository


class AttendanceRepository(_Repository):
    """See the module docstring."""
