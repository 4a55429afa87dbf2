"""Wiring: runs the flows on real calls (FastAGI) and records each call in the store."""
