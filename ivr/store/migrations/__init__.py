"""Alembic migrations of the hotline schema (run through ``ivr.store.migrate``)."""
