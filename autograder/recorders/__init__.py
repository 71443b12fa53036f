"""Where verdicts go: results.json, the nbgrader notebook outputs, reports."""
