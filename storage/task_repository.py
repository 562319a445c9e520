"""The queries of tasks from the minutes (SPEC 13)"""

from __future__ import annotations

from storage.repositories import _Repository


class TaskRepository(_Repository):
    """See the module docstring."""
