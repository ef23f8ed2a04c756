"""Storage: the database schema, engine, migrations and ports (the outbox) of ocrebot.

SQLite (WAL, foreign keys on) by default, PostgreSQL in production. May import `care`, nothing else of ours.
"""
