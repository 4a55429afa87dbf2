"""The console's audit log: every login, every view of a call or a recording, every case action
and every export, with who did it from where. Rows are only ever added.

Nothing written here may hold a clear ID number: the details are passed through
``mask_ids_in_text`` as a last guard, whatever the caller put in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ivr.domain.idnumber import mask_ids_in_text
from ivr.store.base import RecordsBase, clip
from ivr.store.models import AuditLogEntry

__all__ = ["AuditLog", "AuditView", "audit_entry"]


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    detail: str
    remote: str


def audit_entry(
    action: str,
    *,
    actor: str,
    now: datetime,
    role: str = "",
    target: str = "",
    detail: str = "",
    remote: str = "",
) -> AuditLogEntry:
    """A row of the log, masked and cut to its columns; for a store write that audits itself in
    its own transaction (the retention policy's deletions)."""
    return AuditLogEntry(
        at=now,
        actor=clip(mask_ids_in_text(actor), 64),
        role=clip(role, 16),
        action=clip(action, 32),
        target=clip(mask_ids_in_text(target), 64),
        detail=clip(mask_ids_in_text(detail), 200),
        remote=clip(remote, 64),
    )


class AuditLog(RecordsBase):
    async def record(
        self,
        action: str,
        *,
        actor: str,
        role: str = "",
        target: str = "",
        detail: str = "",
        remote: str = "",
        now: datetime,
        unless_since: datetime | None = None,
    ) -> bool:
        """Add an entry; with ``unless_since``, not when the same actor did the same action on
        the same target since then (a browser fetching one recording in several requests).
        True when an entry was added."""
        actor = clip(mask_ids_in_text(actor), 64)
        target = clip(mask_ids_in_text(target), 64)
        async with self.db.write() as session:
            if unless_since is not None:
                seen = await session.scalar(
                    select(AuditLogEntry.id)
                    .where(
                        AuditLogEntry.actor == actor,
                        AuditLogEntry.action == action,
                        AuditLogEntry.target == target,
                        AuditLogEntry.at >= unless_since,
                    )
                    .limit(1)
                )
                if seen is not None:
                    return False
            session.add(
                audit_entry(
                    action,
                    actor=actor,
                    role=role,
                    target=target,
                    detail=detail,
                    remote=remote,
                    now=now,
                )
            )
        return True

    async def entries(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        action: str | None = None,
        actor: str | None = None,
    ) -> tuple[int, list[AuditView]]:
        """(total matching, one page newest first)."""
        query = select(AuditLogEntry)
        if action:
            query = query.where(AuditLogEntry.action == action)
        if actor:
            query = query.where(AuditLogEntry.actor == actor)
        async with self.db.read() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(
                query.order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc())
                .limit(limit)
                .offset(offset)
            )
            views = [
                AuditView(
                    id=r.id,
                    at=r.at,
                    actor=r.actor,
                    role=r.role,
                    action=r.action,
                    target=r.target,
                    detail=r.detail,
                    remote=r.remote,
                )
                for r in rows
            ]
        return int(total or 0), views

    async def actions(self) -> list[str]:
        """The distinct actions logged so far (the audit page's filter)."""
        async with self.db.read() as session:
            rows = await session.scalars(
                select(AuditLogEntry.action).distinct().order_by(AuditLogEntry.action)
            )
            return list(rows)
