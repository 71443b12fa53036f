"""Reference solutions for the XOR back-propagation assignment, with the feedback."""
