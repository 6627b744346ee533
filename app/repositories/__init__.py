"""All SQL of the app: one repository per aggregate (see base.py for the naming contract)."""
