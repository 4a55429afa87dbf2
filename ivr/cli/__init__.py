"""The ``hotline`` command: one module per sub-command, each with ``add_parser(subparsers)``."""
