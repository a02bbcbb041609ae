"""CQL2 filtering (Features Part 3): the standard's own tests, an oracle, limits, parity."""
