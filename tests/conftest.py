"""Project-wide test set-up: the database fixtures (SQLite and a throwaway PostgreSQL) and the
property-based tests' settings."""

from hypothesis import settings

pytest_plugins = ["tests.dbfixtures"]

# Two shared CPUs: an example's time says nothing about the code, so no per-example deadline.
settings.register_profile("hotline", deadline=None)
settings.load_profile("hotline")
