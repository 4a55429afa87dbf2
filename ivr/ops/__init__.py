"""Operations: the node's Prometheus metrics, its readiness (one rule, which the console's
``/readyz`` uses too) and the small HTTP server for ``/metrics``, ``/healthz`` and ``/readyz``.

The parts that take calls never import this package: the composition root gives each of them the
metrics' bound methods as plain callables when it builds them.
"""
