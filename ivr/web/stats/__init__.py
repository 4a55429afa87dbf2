"""Statistics (``/stats`` and ``/api/stats``), the drop-off per menu node and the SVG charts."""
