"""Platform basics every layer may use: settings, repository paths, health endpoints."""
