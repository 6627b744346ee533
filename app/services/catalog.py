"""Catalog names in requests (a job's category, anyone's skills): unknown names are the client's 422."""

from collections.abc import Sequence

from app.errors import Unprocessable
from app.models import Category, Skill
from app.repositories.catalog import CategoryRepository, SkillRepository


async def category_named(categories: CategoryRepository, slug: str) -> Category:
    category = await categories.get_by_slug(slug)
    if category is None:
        raise Unprocessable(f"Unknown category {slug!r}; see GET /api/v1/categories.")
    return category


async def skills_named(skills: SkillRepository, slugs: Sequence[str]) -> list[Skill]:
    """The skills named, in the given order; an unknown slug is a 422."""
    wanted = list(dict.fromkeys(slugs))
    found = await skills.get_by_slugs(wanted)
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise Unprocessable(f"Unknown skills {unknown}; see GET /api/v1/skills.")
    return [found[s] for s in wanted]
