"""The protected resources: galleries, images, stats, webhooks."""
