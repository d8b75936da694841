"""Pilot Rock intake assistant: the product's own Python package."""
