"""Persistence: the engine, the tables, SQL implementations of the oauth stores, migrations."""
