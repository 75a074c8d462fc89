"""Calling rules: the one eligibility check every dial goes through (do-not-call list by number,
the lead's local calling hours, attempt caps, consent), and the tenant's settings for them."""
