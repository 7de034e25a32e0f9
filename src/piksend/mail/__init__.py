"""Outgoing e-mail: a durable outbox written in the transaction that causes a message, a worker
that sends it with retries under a lease, and one transport per kind (SMTP, or .eml files in
development). Below the domains, above storage: accounts may import it."""
