"""The exohub service: FastAPI, SQLAlchemy 2, Alembic and server-rendered pages, one folder per domain."""
