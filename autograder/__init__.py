"""Auto-grading kit for the course's XOR back-propagation assignment."""
