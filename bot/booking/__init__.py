"""The booking domain: availability, scheduling, calls, invites, contact details, time zones
and warmth."""
