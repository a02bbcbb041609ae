"""The project as a user meets it: the CLI, README's commands, the benchmarks."""
