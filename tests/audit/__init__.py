"""The audit trail and usage reports."""
