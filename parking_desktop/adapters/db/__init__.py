"""SQLAlchemy storage: models, engines, units of work, migrations."""
