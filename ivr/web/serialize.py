"""The JSON shapes of the API (described in ``ivr.web.openapi``): plain dicts from store views.

A call itself has one shape, shared with the CLI: ``ivr.store.serialize.call_json``. What is
built here adds the console's own parts (links to recordings, drop-off by flow).
"""

from __future__ import annotations

from typing import Any

from ivr.domain.cards import mask_card
from ivr.domain.retention import Fate
from ivr.store.audit import AuditView
from ivr.store.console import CaseView, RecordingView, VoiceMessageView
from ivr.store.serialize import call_json, iso
from ivr.store.stats import CallStats
from ivr.store.views import CallSummary
from ivr.web.stats.dropoff import FlowDrops

__all__ = [
    "audit_json",
    "case_json",
    "detail_json",
    "fate_json",
    "stats_json",
]


def fate_json(fate: Fate) -> dict[str, Any]:
    """When the retention policy deletes (or deleted) a recording or a call's path."""
    return {
        "deleted_at": iso(fate.deleted_at),
        "due_at": iso(fate.due_at),
        "held": None if fate.held is None else fate.held.value,
        "deletion": iso(fate.deletion),
    }


def _recording_json(recording: RecordingView, fate: Fate) -> dict[str, Any]:
    return {
        "id": recording.id,
        "kind": recording.kind,
        "duration_s": recording.duration_s,
        "created_at": iso(recording.created_at),
        "url": None if recording.deleted_at else f"/recordings/{recording.id}",
        "retention": fate_json(fate),
    }


def detail_json(
    call: CallSummary,
    recordings: list[RecordingView],
    messages: list[VoiceMessageView],
    reports: list[str],
    *,
    path_fate: Fate,
    fates: dict[int, Fate],
) -> dict[str, Any]:
    """A call as ``hotline calls --json`` gives it, and around it what belongs to it (with
    when the retention policy deletes its path and each recording: ``fates`` by recording id)."""
    return {
        **call_json(call),
        "path_retention": fate_json(path_fate),
        "recordings": [_recording_json(r, fates[r.id]) for r in recordings],
        "voice_messages": [
            {
                "recording_id": m.recording_id,
                "callback_number": m.callback_number,
                "created_at": iso(m.created_at),
                "handled_at": iso(m.handled_at),
            }
            for m in messages
        ],
        "loss_reports": reports,
    }


def case_json(case: CaseView, statement_fate: Fate | None) -> dict[str, Any]:
    """A card case; ``statement_fate``: when its recorded statement is deleted (if it has one)."""
    card = case.card
    statement = case.statement
    return {
        "reference": case.reference,
        "status": case.status.value,
        "id_masked": case.id_masked,
        "reported_at": iso(case.reported_at),
        "lapses_on": iso(case.lapses_on),
        "pickup_on": iso(case.pickup_on),
        "verified": case.verified,
        "call_id": case.call_id,
        "statement_url": (
            f"/recordings/{statement.id}"
            if statement is not None and statement.deleted_at is None
            else None
        ),
        "statement_retention": None if statement_fate is None else fate_json(statement_fate),
        "card": None
        if card is None
        else {"number_masked": mask_card(card.number), "status": card.status.value},
        "events": [
            {"at": iso(e.at), "status": e.status.value, "actor": e.actor, "note": e.note}
            for e in case.events
        ],
    }


def stats_json(stats: CallStats, dropoff: list[FlowDrops]) -> dict[str, Any]:
    return {
        "from": iso(stats.start),
        "to": iso(stats.end),
        "hotlines": [
            {
                "hotline": f.hotline,
                "calls": f.calls,
                "finished": f.finished,
                "served": f.served,
                "agent_transfers": f.transfers,
                "avg_handling_s": f.avg_handling_s,
                "containment": f.containment,
            }
            for f in stats.figures
        ],
        "per_hour": stats.per_hour,
        "per_day": {
            line: {day.isoformat(): n for day, n in sorted(days.items())}
            for line, days in stats.per_day.items()
        },
        "outcomes": stats.outcomes,
        "dropoff": [
            {
                "flow": f.flow,
                "title": f.title,
                "nodes": [
                    {"node": n.node, "kind": n.kind, "abandoned": n.abandoned, "failed": n.failed}
                    for n in f.nodes
                ],
            }
            for f in dropoff
        ],
    }


def audit_json(entry: AuditView) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
        "remote": entry.remote,
    }
