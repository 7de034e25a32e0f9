"""PikSend OAuth 2.0 authorization server and the PikSend API it protects."""

__version__ = "0.1.0"
