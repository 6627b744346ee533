from app.schemas.common import CatalogItem


class CategoryRead(CatalogItem):
    pass


class SkillRead(CatalogItem):
    pass
