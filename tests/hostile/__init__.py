"""Hostile and broken submissions, generated from the release notebook."""
