"""All ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.account_token import AccountToken
from app.models.application import Application
from app.models.attendance import Dispute, Timesheet
from app.models.base import Base
from app.models.catalog import Category, Skill
from app.models.job import Job, Shift, job_skills
from app.models.message import Message
from app.models.notification import Notification, NotificationSetting
from app.models.payment import Account, IdempotencyKey, LedgerEntry, Payment
from app.models.review import Review
from app.models.user import RefreshToken, User, user_skills

__all__ = [
    "Account",
    "AccountToken",
    "Application",
    "Base",
    "Category",
    "Dispute",
    "IdempotencyKey",
    "Job",
    "LedgerEntry",
    "Message",
    "Notification",
    "NotificationSetting",
    "Payment",
    "RefreshToken",
    "Review",
    "Shift",
    "Skill",
    "Timesheet",
    "User",
    "job_skills",
    "user_skills",
]
