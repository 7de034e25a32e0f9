"""MCP tools over the user's stats and this app's webhooks: the same services and scopes as
/api/v1/stats and /api/v1/webhooks."""

from __future__ import annotations

from datetime import date
from typing import Any

from mcp.server.mcpserver import Context

from piksend.gallery import stats, webhooks
from piksend.gallery.pagination import DEFAULT_LIMIT
from piksend.web.mcp.gallery_tools import Cursor, Limit
from piksend.web.mcp.toolbox import Toolbox
from piksend.web.routes.api_v1.stats import CountsOut, DayStatsOut, GalleryStatsOut, StatsOut
from piksend.web.routes.api_v1.webhooks import WebhookList, webhook_out


def _counts(c: stats.Counts) -> dict[str, int]:
    return {
        "gallery_views": c.gallery_views,
        "image_views": c.image_views,
        "downloads": c.downloads,
    }


def register(box: Toolbox) -> None:
    @box.tool("stats:read", title="Read gallery stats", read_only=True)
    async def get_stats(
        ctx: Context[Any], start: date | None = None, end: date | None = None
    ) -> StatsOut:
        """Views, image views and downloads of the user's galleries from start to end (UTC
        days, YYYY-MM-DD; by default the 30 days up to today): totals, per gallery, per day."""
        async with box.call(ctx, "get_stats") as call:
            first, last = stats.date_range(start, end, today=box.context.now().date())
            result = await stats.get_stats(
                call.session, owner_id=call.user_id, start=first, end=last
            )
        return StatsOut(
            start=result.start,
            end=result.end,
            totals=CountsOut(**_counts(result.totals)),
            galleries=[
                GalleryStatsOut(gallery_id=x.gallery_id, title=x.title, **_counts(x.counts))
                for x in result.galleries
            ],
            daily=[DayStatsOut(date=d.day, **_counts(d.counts)) for d in result.daily],
        )

    @box.tool("webhooks:read", title="List webhooks", read_only=True)
    async def list_webhooks(
        ctx: Context[Any], limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> WebhookList:
        """List the webhooks this app registered for the user, newest first."""
        async with box.call(ctx, "list_webhooks") as call:
            page = await webhooks.list_webhooks(
                call.session,
                user_id=call.user_id,
                client_id=call.token.client_id,
                cursor=cursor,
                limit=limit,
            )
        return WebhookList(data=[webhook_out(v) for v in page.items], next_cursor=page.next_cursor)
