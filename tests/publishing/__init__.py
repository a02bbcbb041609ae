"""Publishing: import, uploads, jobs, editing, versions, retention and recovery."""
