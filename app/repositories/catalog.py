from collections.abc import Sequence

from sqlalchemy import select

from app.errors import Unprocessable
from app.models import Category, Skill
from app.repositories.base import Repository


class CategoryRepository(Repository[Category]):
    model = Category

    async def list_all(self) -> Sequence[Category]:
        return (await self.session.scalars(select(Category).order_by(Category.name))).all()

    async def by_slug(self, slug: str) -> Category:
        category = await self.session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            raise Unprocessable(f"Unknown category {slug!r}; see GET /api/v1/categories.")
        return category


class SkillRepository(Repository[Skill]):
    model = Skill

    async def list_all(self) -> Sequence[Skill]:
        return (await self.session.scalars(select(Skill).order_by(Skill.name))).all()

    async def by_slugs(self, slugs: Sequence[str]) -> list[Skill]:
        """The skills named, in the given order; an unknown slug is a 422."""
        wanted = list(dict.fromkeys(slugs))
        if not wanted:
            return []
        found = {s.slug: s for s in await self.session.scalars(select(Skill).where(Skill.slug.in_(wanted)))}
        unknown = [s for s in wanted if s not in found]
        if unknown:
            raise Unprocessable(f"Unknown skills {unknown}; see GET /api/v1/skills.")
        return [found[s] for s in wanted]
