"""Talking to URLs that users and apps supply: the SSRF checks and the one safe fetcher.

Below the domains and above nothing of piksend's: any domain may use it."""
