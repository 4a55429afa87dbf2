"""Where each part of a local cluster lives: addresses, ports, folders, and each node's settings.

All on one machine, each on its own loopback address (any of 127.0.0.0/8 works on ``lo`` without
set-up): the SIP proxy and the console at ``.1``, PostgreSQL at ``.2``, node *i* at ``.(10+i)``.
Pure: nothing here starts or reads anything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ClusterLayout", "NodeLayout"]

SIP_PORT = 5060
AGI_PORT = 4573
AMI_PORT = 5038
WEB_PORT = 8080
OPS_PORT = 9105  # each node's /metrics, /healthz, /readyz, on its own address
PG_PORT = 5432
MAX_NODES = 9


@dataclass(frozen=True)
class NodeLayout:
    name: str
    host: str
    data_dir: Path

    @property
    def sip(self) -> str:
        return f"{self.host}:{SIP_PORT}"

    @property
    def agi(self) -> str:
        return f"{self.host}:{AGI_PORT}"

    @property
    def ops_url(self) -> str:
        return f"http://{self.host}:{OPS_PORT}"


@dataclass(frozen=True)
class ClusterLayout:
    folder: Path  # everything of the cluster: var/cluster by default
    network: str  # the first address of a /24 on the loopback, e.g. 127.0.2.0
    nodes: tuple[NodeLayout, ...]

    @classmethod
    def of(cls, folder: Path, count: int, network: str = "127.0.2.0") -> ClusterLayout:
        if not 1 <= count <= MAX_NODES:
            raise ValueError(f"a local cluster has 1 to {MAX_NODES} nodes, not {count}")
        base = ipaddress.ip_address(network)
        if not base.is_loopback or int(base) % 256:
            raise ValueError(f"{network}: give the first address of a /24 in 127.0.0.0/8")
        nodes = tuple(
            NodeLayout(f"node{i}", str(base + 10 + i), folder / f"node{i}")
            for i in range(1, count + 1)
        )
        return cls(folder, network, nodes)

    def _address(self, last: int) -> str:
        return str(ipaddress.ip_address(self.network) + last)

    @property
    def proxy_host(self) -> str:
        return self._address(1)

    @property
    def proxy(self) -> str:
        return f"{self.proxy_host}:{SIP_PORT}"

    @property
    def console_url(self) -> str:
        return f"http://{self.proxy_host}:{WEB_PORT}"

    @property
    def postgres_host(self) -> str:
        return self._address(2)

    @property
    def proxy_dir(self) -> Path:
        return self.folder / "proxy"

    @property
    def console_dir(self) -> Path:
        return self.folder / "console"

    @property
    def state_file(self) -> Path:
        return self.folder / "cluster.json"

    def peers_of(self, node: NodeLayout) -> str:
        """The other nodes' FastAGI servers, the next one first: each node's calls spill over to
        its neighbour, not all to node 1."""
        index = self.nodes.index(node)
        others = self.nodes[index + 1 :] + self.nodes[:index]
        return ",".join(other.agi for other in others)

    def node_env(self, node: NodeLayout, common: dict[str, str]) -> dict[str, str]:
        """The settings (``HOTLINE_*``) a node runs with."""
        return {
            **common,
            "HOTLINE_DATA_DIR": str(node.data_dir),
            "HOTLINE_NODE_NAME": node.name,
            "HOTLINE_SIP_HOST": node.host,
            "HOTLINE_SIP_PORT": str(SIP_PORT),
            "HOTLINE_AMI_HOST": node.host,
            "HOTLINE_AMI_PORT": str(AMI_PORT),
            "HOTLINE_AGI_HOST": node.host,
            "HOTLINE_AGI_PORT": str(AGI_PORT),
            "HOTLINE_OPS_HOST": node.host,
            "HOTLINE_OPS_PORT": str(OPS_PORT),
            "HOTLINE_SIP_PROXY": self.proxy,
            "HOTLINE_AGI_PEERS": self.peers_of(node),
        }

    def console_env(self, common: dict[str, str]) -> dict[str, str]:
        return {
            **common,
            "HOTLINE_DATA_DIR": str(self.console_dir),
            "HOTLINE_NODE_NAME": "console",
            "HOTLINE_WEB_HOST": self.proxy_host,
            "HOTLINE_WEB_PORT": str(WEB_PORT),
        }
