"""The SQLite audit log: runs, decisions, the write-back outbox, cursors, dead letters.

``AuditLog.open(path)`` opens (creating mode 0600, migrating) the database; the write side
lives in :mod:`.db` (the only module that changes the file), the read side in
:mod:`.queries`. The report built from it is :mod:`sync_agent.report`.
"""

from sync_agent.audit.db import AuditLog, NewDecision, OutboxItem

__all__ = ["AuditLog", "NewDecision", "OutboxItem"]
