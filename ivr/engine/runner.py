"""The one interpreter of flow definitions.

Flows are checked when the engine is built (``ivr.engine.checks``): a wrong transition, an unknown
action or a prompt missing in some language fails at start-up, never on a call.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ivr.engine.checks import check_flows
from ivr.engine.context import CallContext
from ivr.engine.gather import listens_through, read_entry
from ivr.engine.model import (
    ALL_KEYS,
    Action,
    Collect,
    End,
    Flow,
    Menu,
    Once,
    Prompts,
    Record,
    Say,
    Sub,
)
from ivr.engine.port import CallPort
from ivr.engine.speak import expand
from ivr.engine.typeahead import TypeAhead


@dataclass(frozen=True)
class Reject:
    """The entry is wrong: say ``prompt`` and ask again (counts as a no-match)."""

    prompt: str


@dataclass(frozen=True)
class Leave:
    """Leave the collection through ``exits[result]`` (e.g. the account is locked)."""

    result: str


Verdict = Reject | Leave | None


@dataclass(frozen=True)
class Hold:
    """The verdict takes a while (the check waits its turn): the caller hears ``prompt`` while
    ``verdict`` is worked out, then the verdict counts as if the check had returned it."""

    prompt: str
    verdict: Awaitable[Verdict]


CheckResult = Verdict | Hold
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
        end = await self._run_flow(self.flows[flow_name], TypeAhead(port), ctx)
        ctx.outcome, ctx.then = end.outcome, end.then
        return end

    async def _run_flow(self, flow: Flow, line: TypeAhead, ctx: CallContext) -> End:
        name = flow.start
        said: str | None = None  # the Say the caller heard last, if no input came after it
        while True:
            node = flow.nodes[name]
            ctx.enter(flow.name, name)
            match node:
                case Menu():
                    name, said = await self._menu(node, line, ctx, here=name, said=said), None
                case Collect():
                    name, said = await self._collect(node, line, ctx), None
                case Say():
                    ctx.log("say", detail=_describe(node.prompts))
                    interrupt = ALL_KEYS if node.barge_in else ""
                    await line.play(expand(node.prompts, ctx), interrupt)
                    ctx.served = ctx.served or node.serves
                    name, said = node.next, name
                case Record():
                    name, said = await self._record(node, line, ctx), None
                case Action():
                    name = await self._action(node, line.port, ctx)
                case Sub():
                    end = await self._run_flow(self.flows[node.flow], line, ctx)
                    ctx.enter(flow.name, name)
                    name, said = _follow(node.next, end.outcome, f"{flow.name}:{name}"), None
                case End():
                    ctx.log("end", detail=node.outcome)
                    if node.prompts:
                        await line.play(expand(node.prompts, ctx), "")
                    return node

    async def _menu(
        self, node: Menu, line: TypeAhead, ctx: CallContext, *, here: str, said: str | None
    ) -> str:
        """The node chosen; the repeat key goes back to what was said just before (``said``)."""
        no_input = no_match = 0
        lead: Prompts = ()
        while True:
            body = node.reprompt if (lead and node.reprompt) else node.prompts
            line.start_input()
            await line.play(expand(lead + body, ctx), ALL_KEYS if node.barge_in else "")
            key = await line.key(node.timeout, first=True)
            if key is not None and key == node.repeat:
                ctx.log("input", key, "repeat")
                return said or here
            if key is not None and key in node.options:
                ctx.log("input", key)
                return node.options[key]
            if node.default is not None:
                ctx.log("input", key or "", "default")
                return node.default
            line.discard()
            if key is None:
                no_input += 1
                ctx.log("no_input")
                lead = (node.no_input_prompt,)
                failed = no_input > node.retries.no_input
            else:
                no_match += 1
                ctx.log("no_match", key)
                lead = (node.no_match_prompt,)
                failed = no_match > node.retries.no_match
            if failed:
                return await self._give_up(node.on_fail, lead, line, ctx)

    async def _collect(self, node: Collect, line: TypeAhead, ctx: CallContext) -> str:
        exit_keys = "".join(k for k in node.exits if len(k) == 1)
        interrupt = node.allowed + node.terminator + exit_keys if node.barge_in else ""
        no_input = no_match = 0
        lead: Prompts = ()
        while True:
            body = node.reprompt if (lead and node.reprompt) else node.prompts
            line.start_input()
            sounds = expand(lead + body, ctx)
            heard = None
            if node.barge_in and listens_through(node.terminator, exit_keys):
                heard = await line.entry(
                    sounds, node.inter_timeout, node.max_digits, sensitive=node.sensitive
                )
            if heard is None:
                await line.play(sounds, interrupt, sensitive=node.sensitive)
            entry = await read_entry(
                line,
                allowed=node.allowed,
                max_digits=node.max_digits,
                terminator=node.terminator,
                exit_keys=exit_keys,
                first_timeout=node.first_timeout,
                inter_timeout=node.inter_timeout,
                term_timeout=node.term_timeout,
                sensitive=node.sensitive,
                heard=heard,
            )
            shown = self._shown(node, entry.digits)
            if entry.ending == "exit":  # one of the keys the node lists: a choice, not an entry
                ctx.log("input", entry.digits, "exit")
                return node.exits[entry.digits]
            if entry.ending == "no_input":
                line.discard()
                no_input += 1
                ctx.log("no_input")
                lead = (node.no_input_prompt,)
                if no_input > node.retries.no_input:
                    return await self._give_up(node.on_fail, lead, line, ctx)
                continue
            verdict = await self._verdict(node, ctx, entry.digits, entry.ending == "bad_key")
            if isinstance(verdict, Hold):
                verdict = await self._hold(verdict, line, ctx)
            if verdict is None:
                ctx.vars[node.store_as] = entry.digits
                ctx.log("input", shown, entry.ending)
                return node.next
            line.discard()  # keys typed ahead were meant for a path the call does not take now
            if isinstance(verdict, Leave):
                ctx.log("input", shown, verdict.result)
                return _follow(node.exits, verdict.result, ctx.node)
            no_match += 1
            ctx.log("no_match", shown, verdict.prompt)
            lead = (verdict.prompt,)
            if no_match > node.retries.no_match:
                return await self._give_up(node.on_fail, lead, line, ctx)

    async def _give_up(
        self, on_fail: str, reason: Prompts, line: TypeAhead, ctx: CallContext
    ) -> str:
        """The last failure: say what was wrong (the caller is told why, not only that it
        failed), then go on to ``on_fail``."""
        await line.play(expand(reason, ctx), "")
        return on_fail

    async def _hold(self, hold: Hold, line: TypeAhead, ctx: CallContext) -> Verdict:
        """The verdict, worked out while the caller hears the hold prompt (keys pressed meanwhile
        wait as type-ahead). A caller gone during the prompt still gets the check finished (a
        wrong password counts) before the hang-up goes on."""
        verdict = asyncio.ensure_future(hold.verdict)
        ctx.log("say", detail=hold.prompt)
        try:
            await line.play(expand((hold.prompt,), ctx), "")
        except BaseException:
            await asyncio.wait({verdict})
            if not verdict.cancelled():
                verdict.exception()  # retrieved: the hang-up is what this call ends with
            raise
        return await verdict

    def _shown(self, node: Collect, digits: str) -> str:
        """The entry as records, logs and events show it: the node it was keyed in decides,
        whatever the entry's length or validity."""
        match node.privacy:
            case "secret":
                return "***"
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

    async def _record(self, node: Record, line: TypeAhead, ctx: CallContext) -> str:
        await line.play(expand(node.prompts, ctx), "")
        line.discard()  # the caller speaks now: keys from before the tone belong to nothing
        name = f"{node.kind}/{ctx.hotline}-{ctx.call_id or ctx.uniqueid}-{len(ctx.steps) + 1}"
        recording = await line.port.record(
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
    parts: list[str] = []
    for part in prompts:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Once):
            parts.append(part.key)
        else:
            parts.append(f"<{part.var}>")
    return " ".join(parts)
