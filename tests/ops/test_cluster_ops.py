"""Each node of ``hotline cluster`` serves its metrics and probes on its own address, at the port
Prometheus and the load balancers are told (9105), so that one scrape job reaches every node."""

from __future__ import annotations

from pathlib import Path

from ivr.cluster.topology import ClusterLayout
from ivr.config import Settings


def test_each_cluster_node_serves_its_ops_on_its_own_address(tmp_path: Path) -> None:
    layout = ClusterLayout.of(tmp_path / "cluster", 3)
    settings = [Settings.load(env=layout.node_env(node, {})).ops_host for node in layout.nodes]
    assert settings == [node.host for node in layout.nodes]
    assert len(set(settings)) == 3
    for node in layout.nodes:
        env = layout.node_env(node, {})
        assert Settings.load(env=env).ops_port == 9105
        assert node.ops_url == f"http://{node.host}:9105"
