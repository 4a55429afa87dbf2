"""The one interpreter of flow definitions.

Flows are checked when the engine is built (``ivr.engine.checks``): a wrong transition, an unknown
action or a prompt missing in some language fails at start-up, never on a call.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.engine.checks import check_flows
from ivr.engine.context import CallContext
from ivr.engine.gather import read_entry
from ivr.engine.model import ALL_KEYS, Action, Collect, End, Flow, Menu, Prompts, Record, Say, Sub
from ivr.engine.port import CallPort
from ivr.engine.speak import expand


@dataclass(frozen=True)
class Reject:
    """The entry is wrong: say ``prompt`` and ask again (counts as a no-match)."""

    prompt: str


@dataclass(frozen=True)
class Leave:
    """Leave the collection through ``exits[result]`` (e.g. the account is locked)."""

    result: str


CheckResult = Reject | Leave | None
Check = Callable[[CallContext, str], Awaitable[CheckResult]]
ActionFn = Callable[[CallContext, Mapping[str, str]], Awaitable[str]]


class FlowError(Exception):
    """A flow definition is inconsistent, or an action returned a result the flow ignores."""


def hide_entry(entry: str) -> str:
    """Every key hidden: how an ID-number entry is shown when no masker was given."""
    return "*" * len(entry)


class Engine:
    def __init__(
        self,
        flows: Mapping[str, Flow],
        actions: Mapping[str, ActionFn],
        checks: Mapping[str, Check],
        *,
        mask_id_number: Callable[[str], str] = hide_entry,
    ) -> None:
        problems = check_flows(flows, actions, checks)
        if problems:
            raise FlowError("invalid flow definitions:\n  " + "\n  ".join(problems))
        self.flows = dict(flows)
        self.actions = dict(actions)
        self.checks = dict(checks)
        # How an entry keyed in an ``id_number`` node is shown (a domain rule, given by the flows)
        self.mask_id_number = mask_id_number

    async def run(self, flow_name: str, port: CallPort, ctx: CallContext) -> End:
        """Run a whole call through ``flow_name``; the final End node says what happens next."""
        end = await self._run_flow(self.flows[flow_name], port, ctx)
        ctx.outcome, ctx.then = end.outcome, end.then
        return end

    async def _run_flow(self, flow: Flow, port: CallPort, ctx: CallContext) -> End:
        name = flow.start
        while True:
            node = flow.nodes[name]
            ctx.enter(flow.name, name)
            match node:
                case Menu():
                    name = await self._menu(node, port, ctx)
                case Collect():
                    name = await self._collect(node, port, ctx)
                case Say():
                    ctx.log("say", detail=_describe(node.prompts))
                    await port.play(expand(node.prompts, ctx), "")
                    ctx.served = ctx.served or node.serves
                    name = node.next
                case Record():
                    name = await self._record(node, port, ctx)
                case Action():
                    name = await self._action(node, port, ctx)
                case Sub():
                    end = await self._run_flow(self.flows[node.flow], port, ctx)
                    ctx.enter(flow.name, name)
                    name = _follow(node.next, end.outcome, f"{flow.name}:{name}")
                case End():
                    ctx.log("end", detail=node.outcome)
                    if node.prompts:
                        await port.play(expand(node.prompts, ctx), "")
                    return node

    async def _menu(self, node: Menu, port: CallPort, ctx: CallContext) -> str:
        no_input = no_match = 0
        lead: Prompts = ()
        while True:
            body = node.reprompt if (lead and node.reprompt) else node.prompts
            key = await port.play(expand(lead + body, ctx), ALL_KEYS if node.barge_in else "")
            if key is None:
                key = await port.wait_digit(node.timeout, first=True)
            if key is not None and key in node.options:
                ctx.log("input", key)
                return node.options[key]
            if node.default is not None:
                ctx.log("input", key or "", "default")
                return node.default
            if key is None:
                no_input += 1
                ctx.log("no_input")
                if no_input > node.retries.no_input:
                    return node.on_fail
                lead = (node.no_input_prompt,)
            else:
                no_match += 1
                ctx.log("no_match", key)
                if no_match > node.retries.no_match:
                    return node.on_fail
                lead = (node.no_match_prompt,)

    async def _collect(self, node: Collect, port: CallPort, ctx: CallContext) -> str:
        exit_keys = "".join(k for k in node.exits if len(k) == 1)
        interrupt = node.allowed + node.terminator + exit_keys if node.barge_in else ""
        no_input = no_match = 0
        lead: Prompts = ()
        while True:
            body = node.reprompt if (lead and node.reprompt) else node.prompts
            first = await port.play(expand(lead + body, ctx), interrupt, sensitive=node.sensitive)
            entry = await read_entry(
                port,
                first,
                allowed=node.allowed,
                max_digits=node.max_digits,
                terminator=node.terminator,
                exit_keys=exit_keys,
                first_timeout=node.first_timeout,
                inter_timeout=node.inter_timeout,
                term_timeout=node.term_timeout,
                sensitive=node.sensitive,
            )
            shown = self._shown(node, entry.digits)
            if entry.ending == "exit":  # one of the keys the node lists: a choice, not an entry
                ctx.log("input", entry.digits, "exit")
                return node.exits[entry.digits]
            if entry.ending == "no_input":
                no_input += 1
                ctx.log("no_input")
                if no_input > node.retries.no_input:
                    return node.on_fail
                lead = (node.no_input_prompt,)
                continue
            verdict = await self._verdict(node, ctx, entry.digits, entry.ending == "bad_key")
            if verdict is None:
                ctx.vars[node.store_as] = entry.digits
                ctx.log("input", shown, entry.ending)
                return node.next
            if isinstance(verdict, Leave):
                ctx.log("input", shown, verdict.result)
                return _follow(node.exits, verdict.result, ctx.node)
            no_match += 1
            ctx.log("no_match", shown, verdict.prompt)
            if no_match > node.retries.no_match:
                return node.on_fail
            lead = (verdict.prompt,)

    def _shown(self, node: Collect, digits: str) -> str:
        """The entry as records, logs and events show it: the node it was keyed in decides,
        whatever the entry's length or validity."""
        match node.privacy:
            case "secret":
                return "***" if digits else ""
            case "id_number":
                return self.mask_id_number(digits)
            case "plain":
                return digits

    async def _verdict(
        self, node: Collect, ctx: CallContext, digits: str, bad_key: bool
    ) -> CheckResult:
        if bad_key or not node.min_digits <= len(digits) <= node.max_digits:
            return Reject(node.pattern_error)
        if node.pattern and not re.fullmatch(node.pattern, digits):
            return Reject(node.pattern_error)
        if node.check:
            return await self.checks[node.check](ctx, digits)
        return None

    async def _record(self, node: Record, port: CallPort, ctx: CallContext) -> str:
        await port.play(expand(node.prompts, ctx), "")
        name = f"{node.kind}/{ctx.hotline}-{ctx.call_id or ctx.uniqueid}-{len(ctx.steps) + 1}"
        recording = await port.record(
            name,
            max_seconds=node.max_seconds,
            terminator=node.terminator,
            silence_seconds=node.silence_seconds,
        )
        ctx.vars[node.store_as] = recording
        detail = (
            f"{recording.duration_s:.1f}s {recording.ended_by}" if recording else "nothing said"
        )
        ctx.log("record", detail=detail)
        return node.next

    async def _action(self, node: Action, port: CallPort, ctx: CallContext) -> str:
        language = ctx.language
        result = await self.actions[node.run](ctx, node.args)
        ctx.log("action", detail=f"{node.run}: {result}")
        if ctx.language != language:  # an action chose the caller's language
            await port.set_language(ctx.language)
        return _follow(node.next, result, ctx.node)


def _follow(transitions: Mapping[str, str], result: str, where: str) -> str:
    try:
        return transitions[result]
    except KeyError:
        raise FlowError(f"{where}: no transition for result {result!r}") from None


def _describe(prompts: Prompts) -> str:
    """What was said, for the call log: prompt keys, values as placeholders (never the data)."""
    parts: list[Any] = []
    for part in prompts:
        parts.append(part if isinstance(part, str) else f"<{getattr(part, 'var', '?')}>")
    return " ".join(parts)
