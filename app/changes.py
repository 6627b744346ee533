"""What a write changed beyond the object it answers with, so whoever keeps copies (the response cache, at
the route) knows what to drop. Services fill these in; routers pass them on with the response body
(`change.map(...)`); `@invalidates` reads them and sends the body. A plain module: every layer may use it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class UserLinks:
    """Where a user's public data shows besides their profile: the jobs they posted (job views embed the
    client) and applied to (applicant lists embed the worker); with names, the other side of their reviews."""

    user_id: int
    posted: list[int]
    applied: list[int]
    reviewed: list[int] = field(default_factory=list)
    reviewers: list[int] = field(default_factory=list)
    names: bool = False  # the user's name changed (search cards and review pages print it)


@dataclass(frozen=True)
class Change(Generic[T]):
    """A write's result: the object (for the response) and who else is affected."""

    value: T
    applicants: list[int] = field(default_factory=list)  # workers whose own application lists show the job
    users: list[UserLinks] = field(default_factory=list)  # users whose public data changed
    search: bool = False  # the search pages (job cards) changed

    def map(self, render: Callable[[T], U]) -> "Change[U]":
        """The same change carrying the response body instead of the model."""
        return Change(render(self.value), self.applicants, self.users, self.search)
