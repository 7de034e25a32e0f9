"""The authorization-server core: protocol rules only, standard library only.

RFC 6749 (OAuth 2.0), RFC 7636 (PKCE), RFC 7009 (revocation), RFC 7662 (introspection),
RFC 8414 (metadata), RFC 9207 (iss), RFC 6750 (bearer), RFC 9700 (security BCP).
"""
