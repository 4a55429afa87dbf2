"""A SIP phone that registers and then only rings: an agent who never picks up.

Enough for the agent queue to see a reachable member (it answers Asterisk's OPTIONS qualify) and
ring it, so a caller really waits in the queue (QueueCallerJoin) until they hang up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from types import TracebackType

from ivr.config import Settings

__all__ = ["RingingAgent"]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _headers(message: str, name: str) -> list[str]:
    prefix = name.lower() + ":"
    return [line for line in message.split("\r\n") if line.lower().startswith(prefix)]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, agent: RingingAgent) -> None:
        self.agent = agent

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.agent.received(data.decode(errors="replace"), addr)


class RingingAgent:
    def __init__(self, settings: Settings, user: str = "7001") -> None:
        self.settings = settings
        self.user = user
        self.invites: list[str] = []  # Call-IDs of calls that rang this phone
        self._transport: asyncio.DatagramTransport | None = None
        self._replies: dict[str, asyncio.Queue[str]] = {}
        self._ringing: dict[str, str] = {}  # Call-ID -> the INVITE, until cancelled

    async def __aenter__(self) -> RingingAgent:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=("127.0.0.1", 0)
        )
        self._transport = transport
        status = await self.register(expires=300)
        if not status.startswith("SIP/2.0 200"):
            raise RuntimeError(f"agent {self.user} could not register: {status}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(Exception):
            await self.register(expires=0)
        if self._transport is not None:
            self._transport.close()

    @property
    def port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    def _send(self, text: str) -> None:
        assert self._transport is not None
        self._transport.sendto(text.encode(), (self.settings.sip_host, self.settings.sip_port))

    async def register(self, expires: int) -> str:
        server = f"{self.settings.sip_host}:{self.settings.sip_port}"
        uri = f"sip:{server}"
        call_id = uuid.uuid4().hex
        replies: asyncio.Queue[str] = asyncio.Queue()
        self._replies[call_id] = replies
        authorization = ""
        try:
            for cseq in (1, 2):
                branch = f"z9hG4bK{uuid.uuid4().hex}"
                self._send(
                    f"REGISTER {uri} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};rport;branch={branch}\r\n"
                    f"Max-Forwards: 70\r\n"
                    f"From: <sip:{self.user}@{server}>;tag={call_id[:8]}\r\n"
                    f"To: <sip:{self.user}@{server}>\r\n"
                    f"Call-ID: {call_id}\r\nCSeq: {cseq} REGISTER\r\n"
                    f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>\r\n"
                    f"{authorization}Expires: {expires}\r\nContent-Length: 0\r\n\r\n"
                )
                while True:
                    reply = await asyncio.wait_for(replies.get(), 5)
                    if not reply.startswith("SIP/2.0 1"):
                        break
                if not reply.startswith("SIP/2.0 401"):
                    return reply.split("\r\n", 1)[0]
                challenge = re.search(r"WWW-Authenticate: Digest (.*)", reply)
                assert challenge, reply
                fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.group(1)))
                realm, nonce = fields["realm"], fields["nonce"]
                ha1 = _md5(f"{self.user}:{realm}:{self.settings.sip_password}")
                digest = _md5(f"{ha1}:{nonce}:{_md5(f'REGISTER:{uri}')}")
                authorization = (
                    f'Authorization: Digest username="{self.user}", realm="{realm}", '
                    f'nonce="{nonce}", uri="{uri}", response="{digest}", algorithm=MD5\r\n'
                )
            return reply.split("\r\n", 1)[0]
        finally:
            self._replies.pop(call_id, None)

    def received(self, message: str, addr: tuple[str, int]) -> None:
        call_id = next(iter(_headers(message, "Call-ID")), "").partition(":")[2].strip()
        if message.startswith("SIP/2.0 "):
            if call_id in self._replies:
                self._replies[call_id].put_nowait(message)
            return
        method = message.split(" ", 1)[0]
        if method == "OPTIONS":
            self._reply(message, "200 OK")
        elif method == "INVITE":
            self.invites.append(call_id)
            self._ringing[call_id] = message
            self._reply(message, "100 Trying")
            self._reply(message, "180 Ringing", tag=True)
        elif method == "CANCEL":
            self._reply(message, "200 OK")
            invite = self._ringing.pop(call_id, None)
            if invite is not None:
                self._reply(invite, "487 Request Terminated", tag=True)
        elif method in ("BYE", "NOTIFY"):
            self._reply(message, "200 OK")
        # ACK needs no answer

    def _reply(self, request: str, status: str, *, tag: bool = False) -> None:
        lines = [f"SIP/2.0 {status}"]
        lines += _headers(request, "Via") + _headers(request, "From")
        to = next(iter(_headers(request, "To")), "To: <sip:unknown>")
        if tag and ";tag=" not in to:
            to += f";tag=agent{self.user}"
        lines += [to, *_headers(request, "Call-ID"), *_headers(request, "CSeq")]
        lines += ["Content-Length: 0", "", ""]
        self._send("\r\n".join(lines))
