"""The staff web app and what it stands on: accounts, sessions, permissions and views."""
