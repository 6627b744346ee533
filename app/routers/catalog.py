from fastapi import APIRouter

from app.deps import SessionDep
from app.repositories.catalog import CategoryRepository, SkillRepository
from app.schemas.catalog import CategoryRead, SkillRead

router = APIRouter(tags=["catalog"])


@router.get("/categories", response_model=list[CategoryRead], operation_id="list_categories")
async def list_categories(session: SessionDep) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in await CategoryRepository(session).list_all()]


@router.get("/skills", response_model=list[SkillRead], operation_id="list_skills")
async def list_skills(session: SessionDep) -> list[SkillRead]:
    return [SkillRead.model_validate(s) for s in await SkillRepository(session).list_all()]
