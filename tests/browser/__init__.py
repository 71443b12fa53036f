"""The kit driven through a real browser: Jupyter Lab, nbgrader and Chromium."""
