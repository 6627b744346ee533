"""Use cases that span several repositories or have side effects (money, hiring, ratings)."""
