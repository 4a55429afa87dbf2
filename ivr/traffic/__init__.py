"""Generated call traffic for volume tests: callers walking the real flows, written in bulk
(``hotline db seed --calls``, ``bench/console_volume.py``). Seeding, not serving: nothing that
answers a call imports it."""
