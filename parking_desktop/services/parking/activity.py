"""The activity log and audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User, UserActivity
from parking_desktop.domain import validation
from parking_desktop.domain.roles import Actor
from parking_desktop.services.context import OPERATOR_KEY, ServiceContext
from parking_desktop.services.guards import require_self_or_manager
from parking_desktop.services.parking.activity_types import KNOWN_TYPES as KNOWN_TYPES
from parking_desktop.services.views import ActivityView, Page


def record(
    session: Session,
    user_id: int | None,
    activity_type: str,
    data: dict[str, Any],
    at: datetime,
) -> None:
    """Add an activity row in the caller's transaction (it commits or rolls back with it).
    A change by the system actor names the operator of the unit of work, if any (the
    command line's operating-system user and host) as ``actor`` in the data."""
    operator = session.info.get(OPERATOR_KEY)
    if user_id is None and operator:
        data = {**data, "actor": operator}
    session.add(
        UserActivity(user_id=user_id, activity_type=activity_type, activity_data=data, timestamp=at)
    )


class ActivityService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def record(self, actor: Actor, activity_type: str, data: dict[str, Any]) -> None:
        with self.ctx.write("activity") as session:
            record(session, actor.user_id, activity_type, data, self.ctx.clock.now())

    def history(
        self,
        actor: Actor,
        *,
        user_id: int | None = None,
        activity_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[ActivityView]:
        """A user's activity (their own, or anyone's for a manager); everything for a manager
        when ``user_id`` is None."""
        require_self_or_manager(actor, user_id, "see activity")
        limit = max(1, min(limit, 1000))
        query = select(UserActivity, User.username).outerjoin(User, User.id == UserActivity.user_id)
        count = select(func.count(UserActivity.id))
        activity_type = validation.search_text(activity_type, "The activity type") or None
        conditions = []
        if user_id is not None:
            conditions.append(UserActivity.user_id == user_id)
        if activity_type:
            conditions.append(UserActivity.activity_type == activity_type)
        if since is not None:
            conditions.append(UserActivity.timestamp >= self.ctx.aware(since))
        if until is not None:
            conditions.append(UserActivity.timestamp < self.ctx.aware(until))
        query = query.where(*conditions)
        count = count.where(*conditions)
        with self.ctx.read() as session:
            total = session.scalar(count) or 0
            rows = session.execute(
                query.order_by(UserActivity.timestamp.desc(), UserActivity.id.desc())
                .offset(max(0, offset)).limit(limit)
            ).all()
            items = [
                ActivityView(
                    id=a.id, user_id=a.user_id, username=name, activity_type=a.activity_type,
                    activity_data=dict(a.activity_data or {}), timestamp=a.timestamp,
                )
                for a, name in rows
            ]
        return Page(items=items, total=total, offset=offset, limit=limit)
