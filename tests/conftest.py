"""Project-wide test set-up: the database fixtures (SQLite and a throwaway PostgreSQL)."""

pytest_plugins = ["tests.dbfixtures"]
