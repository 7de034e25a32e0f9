"""Compatibility shim: the gallery's tables are now piksend.storage.tables.gallery.

Removed when the imports are rewritten to the new path.
"""

from piksend.storage.tables.gallery import (
    Gallery,
    GalleryDailyStats,
    Image,
    Webhook,
    WebhookDelivery,
)

__all__ = ["Gallery", "GalleryDailyStats", "Image", "Webhook", "WebhookDelivery"]
