"""The audit trail: every read and write recorded, and read back by owners."""
