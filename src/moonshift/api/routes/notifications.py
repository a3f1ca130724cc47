"""Notification channels (list, show, define, test) and a migration's delivery log."""

from __future__ import annotations

from fastapi import APIRouter

from moonshift.api.auth import Admin, App, Operator, Reader
from moonshift.api.params import ConnectionId, Limit, MigrationId
from moonshift.app import views
from moonshift.app.notifications import Channel, ChannelTest, Event
from moonshift.domain.notices import ChannelSpec

router = APIRouter(tags=["notifications"])


@router.get("/v1/channels")
def list_channels(app: App, _: Reader) -> views.Page[Channel]:
    return views.Page(items=app.notifications.channels())


@router.post("/v1/channels", status_code=201)
def put_channel(body: ChannelSpec, app: App, who: Admin) -> views.ConnectionApplied:
    """Define or change a channel; secrets (a webhook's secret, an SMTP password, a Slack
    URL's token) are `${ENV}` references, resolved where the daemon delivers."""
    return app.notifications.put_channel(body, actor=who.actor)


@router.get("/v1/channels/{channel_id}")
def show_channel(channel_id: ConnectionId, app: App, _: Reader) -> Channel:
    return app.notifications.channel(channel_id)


@router.post("/v1/channels/{channel_id}/test")
def test_channel(channel_id: ConnectionId, app: App, who: Operator) -> ChannelTest:
    """Send a test message now, from the API server; `ok` says whether it arrived."""
    return app.notifications.test(channel_id, actor=who.actor)


@router.get("/v1/migrations/{migration_id}/notifications")
def notification_log(
    migration_id: MigrationId, app: App, _: Reader, limit: Limit = 50
) -> views.Page[Event]:
    """The migration's events, newest first, each with its delivery to every channel."""
    return views.Page(items=app.notifications.log(migration_id, limit=limit))
