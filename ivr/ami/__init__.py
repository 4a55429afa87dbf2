"""AMI for the hotline: the wire format (pure), the client, the live-call bridge, scripted calls."""

from ivr.ami.bridge import AMIBridge, start_bridge
from ivr.ami.channels import Channel
from ivr.ami.client import ActionList, AMIClient, Backoff
from ivr.ami.errors import (
    AMIActionError,
    AMIConnectError,
    AMIDisconnected,
    AMIError,
    AMILoginError,
    AMITimeout,
)
from ivr.ami.hangups import HangupRecorder, HangupStore
from ivr.ami.keys import KeyScript, parse_keys
from ivr.ami.protocol import Framer, Message, ProtocolError, format_action, parse_message
from ivr.ami.scripted_call import ScriptedCall, ScriptedCallResult

__all__ = [
    "AMIActionError",
    "AMIBridge",
    "AMIClient",
    "AMIConnectError",
    "AMIDisconnected",
    "AMIError",
    "AMILoginError",
    "AMITimeout",
    "ActionList",
    "Backoff",
    "Channel",
    "Framer",
    "HangupRecorder",
    "HangupStore",
    "KeyScript",
    "Message",
    "ProtocolError",
    "ScriptedCall",
    "ScriptedCallResult",
    "format_action",
    "parse_keys",
    "parse_message",
    "start_bridge",
]
