"""Grant handlers, one per ``grant_type`` (RFC 6749 §4.1.3 and §6)."""
