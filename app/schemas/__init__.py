"""Request and response models, separate from the ORM models."""
