"""Storage backends behind one contract: in-memory twin, SQLite, PostgreSQL."""
