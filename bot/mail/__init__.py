"""Outgoing mail: the SMTP mailer and the transactional outbox."""
