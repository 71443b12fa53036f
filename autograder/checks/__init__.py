"""The hidden checks: pytest files run in the grader's process, never released."""
