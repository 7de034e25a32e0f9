"""The schema: one declarative metadata over every area's tables (what Alembic compares).

``from piksend.storage import tables as t`` then ``t.User``, ``t.Token``, ``t.Gallery``…: every
table class is re-exported here, whichever area module defines it.
"""

from piksend.storage.tables.accounts import (
    AccountToken,
    BrowserSession,
    LoginThrottle,
    SecurityEvent,
    User,
)
from piksend.storage.tables.base import NAMING_CONVENTION, Base, UTCDateTime, new_id
from piksend.storage.tables.clients import (
    Client,
    ClientLogo,
    FormNonce,
    IntegrationTest,
    SecretReveal,
)
from piksend.storage.tables.gallery import (
    Gallery,
    GalleryDailyStats,
    Image,
    Webhook,
    WebhookDelivery,
)
from piksend.storage.tables.mail import MailMessage
from piksend.storage.tables.oauth import (
    AuthorizationCode,
    Consent,
    PendingAuthorization,
    RefreshRetry,
    Token,
)

__all__ = [
    "NAMING_CONVENTION",
    "AccountToken",
    "AuthorizationCode",
    "Base",
    "BrowserSession",
    "Client",
    "ClientLogo",
    "Consent",
    "FormNonce",
    "Gallery",
    "GalleryDailyStats",
    "Image",
    "IntegrationTest",
    "LoginThrottle",
    "MailMessage",
    "PendingAuthorization",
    "RefreshRetry",
    "SecretReveal",
    "SecurityEvent",
    "Token",
    "UTCDateTime",
    "User",
    "Webhook",
    "WebhookDelivery",
    "new_id",
]
