"""Tests of the storage package: engine, models, migrations and the outbox, on SQLite and PostgreSQL."""
