"""The one exception family of the AMI layer: every failure is raised, never returned as a dict."""

from __future__ import annotations

from ivr.ami.protocol import Message, ProtocolError

__all__ = [
    "AMIActionError",
    "AMIConnectError",
    "AMIDisconnected",
    "AMIError",
    "AMILoginError",
    "AMITimeout",
    "ProtocolError",
]


class AMIError(Exception):
    """Base of every error the AMI layer raises."""


class AMIConnectError(AMIError):
    """Asterisk could not be reached, or what answered is not AMI."""


class AMILoginError(AMIError):
    """Asterisk refused the configured user or secret."""


class AMIDisconnected(AMIError):
    """Not connected: the action was not sent, or the connection dropped before its reply.

    An action that fails this way is never sent again by the client; after a drop mid-action
    (an Originate, say) the caller cannot know whether Asterisk ran it.
    """


class AMITimeout(AMIError, TimeoutError):
    """No reply to an action within its time-out (the connection stays up)."""


class AMIActionError(AMIError):
    """Asterisk answered ``Response: Error``; ``response`` holds the whole reply."""

    def __init__(self, action: str, response: Message) -> None:
        super().__init__(f"{action}: {response.get('Message', 'error')}")
        self.action = action
        self.response = response
