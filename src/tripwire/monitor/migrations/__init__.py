"""Alembic migrations of the monitor's store (run by :meth:`Store.migrate` on ``serve``)."""
