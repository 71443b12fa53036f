"""The kit's benchmark against stock nbgrader (`make bench`); not a test."""
