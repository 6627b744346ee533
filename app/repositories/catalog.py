from collections.abc import Sequence

from sqlalchemy import select

from app.models import Category, Skill
from app.repositories.base import Repository


class CategoryRepository(Repository[Category]):
    model = Category

    async def list_all(self) -> Sequence[Category]:
        return (await self.session.scalars(select(Category).order_by(Category.name))).all()

    async def get_by_slug(self, slug: str) -> Category | None:
        return await self.session.scalar(select(Category).where(Category.slug == slug))


class SkillRepository(Repository[Skill]):
    model = Skill

    async def list_all(self) -> Sequence[Skill]:
        return (await self.session.scalars(select(Skill).order_by(Skill.name))).all()

    async def get_by_slugs(self, slugs: Sequence[str]) -> dict[str, Skill]:
        """The skills among `slugs` that exist, by slug (the caller decides what a missing one means)."""
        if not slugs:
            return {}
        return {s.slug: s for s in await self.session.scalars(select(Skill).where(Skill.slug.in_(list(slugs))))}
