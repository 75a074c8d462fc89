"""Integrations with the CRM: outgoing webhooks (Standard Webhooks) fed by a transactional outbox."""
