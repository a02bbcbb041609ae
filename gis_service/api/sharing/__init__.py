"""Who may see what: entities, their API keys, and each collection's access."""
