"""Flow definitions as plain, frozen data that a supervisor can read and a drawing can be made of.

A flow is a set of named nodes and a start node. Node kinds:

- ``Menu``: play prompts, take one key, go where ``options`` says;
- ``Collect``: play prompts, collect several digits (min/max, terminator, first-digit and
  inter-digit time-outs), validate them by pattern and/or a named check;
- ``Say``: play prompts and read values back, then go on;
- ``Record``: record the caller's voice;
- ``Action``: run a named domain action, branch on the result it returns;
- ``Sub``: run another flow, branch on the outcome it ends with;
- ``End``: end the flow with an outcome (and, for a whole call, what the dialplan does next).

Prompt parts are prompt keys (``str``), values read back from the call's variables, prompts
chosen by a variable, or prompts said once in a call (``Once``).

Keys a caller presses before the input that takes them wait in the call's type-ahead buffer
(``ivr.engine.typeahead``): a practised caller keys a whole path without waiting for the prompts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# What a Collect node's entry is, which says how records, logs and events show it: "plain" as
# keyed, "id_number" in the masked form the engine is given (whatever its length or validity),
# "secret" as "***". Anything but "plain" is also kept out of the port's own logs.
Privacy = Literal["plain", "id_number", "secret"]

ValueKind = Literal[
    "amount", "date", "year_month", "digits", "number", "months", "days", "working_days"
]


@dataclass(frozen=True)
class Value:
    """A value from the call's variables, read back with the read-back grammar."""

    kind: ValueKind
    var: str


@dataclass(frozen=True)
class Choice:
    """A prompt chosen by a variable: the key is ``prefix + value``; ``values`` lists them all."""

    var: str
    prefix: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Once:
    """A prompt said the first time it comes up in a call only (how the keys that work in every
    menu are explained, once instead of in every menu)."""

    key: str


Part = str | Value | Choice | Once
Prompts = tuple[Part, ...]

ALL_KEYS = "0123456789*#"
DIGITS = "0123456789"
# In every menu, this key says again what the caller just heard: the answer read back right
# before the menu (a balance, a status, a reference), or else the menu itself.
REPEAT_KEY = "9"


@dataclass(frozen=True)
class Retries:
    """How often a caller may fail to answer (silence) or answer wrongly before ``on_fail``."""

    no_input: int = 3
    no_match: int = 3


@dataclass(frozen=True)
class Menu:
    prompts: Prompts
    options: Mapping[str, str]  # key -> node
    reprompt: Prompts = ()  # shorter version played after a failure; defaults to ``prompts``
    timeout: float = 5.0
    retries: Retries = Retries()
    no_input_prompt: str = "no_input"
    no_match_prompt: str = "invalid_key"
    on_fail: str = ""
    default: str | None = None  # silence or an unlisted key go here at once, without reprompting
    barge_in: bool = True
    repeat: str = REPEAT_KEY  # "" for none; never one of ``options``


@dataclass(frozen=True)
class Collect:
    prompts: Prompts
    store_as: str
    next: str
    on_fail: str
    min_digits: int = 1
    max_digits: int = 1
    terminator: str = "#"
    allowed: str = DIGITS
    first_timeout: float = 8.0
    inter_timeout: float = 4.0
    term_timeout: float = 1.5  # after max_digits: how long a trailing terminator is awaited
    pattern: str | None = None  # a regular expression the whole entry must match
    pattern_error: str = "invalid_entry"
    check: str | None = None  # a named check: accept, reject with a targeted prompt, or leave
    exits: Mapping[str, str] = field(default_factory=dict)  # check result or first key -> node
    reprompt: Prompts = ()
    retries: Retries = Retries()
    no_input_prompt: str = "no_input"
    privacy: Privacy = "plain"
    barge_in: bool = True

    @property
    def sensitive(self) -> bool:
        """No key keyed here reaches a log in clear, the port's included."""
        return self.privacy != "plain"


@dataclass(frozen=True)
class Say:
    prompts: Prompts
    next: str
    serves: bool = False  # hearing this means the caller was served (containment statistics)
    # A key stops it (the greeting); the key is the next input's. Otherwise the prompts play to
    # the end and keys pressed meanwhile wait for the next input.
    barge_in: bool = False


@dataclass(frozen=True)
class Record:
    prompts: Prompts
    store_as: str  # the variable that receives the Recording (or None when nothing was said)
    kind: str  # "statement" | "voice_message": the folder and the record type
    next: str
    max_seconds: int = 60
    terminator: str = "#"
    silence_seconds: int = 5


@dataclass(frozen=True)
class Action:
    run: str
    next: Mapping[str, str]  # result -> node
    args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sub:
    flow: str
    next: Mapping[str, str]  # outcome of the sub-flow -> node


@dataclass(frozen=True)
class End:
    outcome: str
    prompts: Prompts = ()
    then: str | None = None  # for a whole call: HOTLINE_NEXT for the dialplan (agent, hangup, ...)


Node = Menu | Collect | Say | Record | Action | Sub | End


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    start: str
    nodes: Mapping[str, Node]


def targets(node: Node) -> dict[str, str]:
    """Every transition out of a node, labelled (key, result or event) -> target node."""
    match node:
        case Menu():
            out = {f"key {k}": v for k, v in node.options.items()}
            if node.default:
                out["other/silence"] = node.default
            if node.on_fail:
                out["fail"] = node.on_fail
            return out
        case Collect():
            out = {"ok": node.next, "fail": node.on_fail}
            out.update({f"exit {k}": v for k, v in node.exits.items()})
            return out
        case Say() | Record():
            return {"": node.next}
        case Action() | Sub():
            return dict(node.next)
        case End():
            return {}
