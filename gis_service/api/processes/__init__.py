"""OGC API - Processes 1.0: the process list and descriptions, execution, jobs."""
