from fastapi import APIRouter

from app.cache import cached
from app.cache import tags as t
from app.deps import SessionDep
from app.repositories.catalog import CategoryRepository, SkillRepository
from app.routers import API_PREFIX
from app.schemas.catalog import CategoryRead, SkillRead

router = APIRouter(prefix=API_PREFIX, tags=["catalog"])


@router.get("/categories", response_model=list[CategoryRead], operation_id="list_categories")
@cached(scope="public", ttl=3600, tags=lambda p, _: [t.CATALOG])
async def list_categories(session: SessionDep) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in await CategoryRepository(session).list_all()]


@router.get("/skills", response_model=list[SkillRead], operation_id="list_skills")
@cached(scope="public", ttl=3600, tags=lambda p, _: [t.CATALOG])
async def list_skills(session: SessionDep) -> list[SkillRead]:
    return [SkillRead.model_validate(s) for s in await SkillRepository(session).list_all()]
