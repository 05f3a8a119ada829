"""What finder keeps in a data dir: the SQLite catalog, vector indexes, the writer lock."""
