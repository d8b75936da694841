"""Conversations as staff see them: read from Rasa's tracker store, indexed, reviewed."""
