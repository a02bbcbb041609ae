"""HTTP plumbing: links, problems, bad input, hardening, fuzzing, the worker's imports."""
