"""The monitor: a store of predictions and feedback, window evaluation, alerts, a service.

Needs the ``service`` extra (``pip install 'tripwire[service]'``). Modules:
``store`` (SQLAlchemy; SQLite or PostgreSQL; with ``tokens``, ``incidents`` and ``ingest``),
``windows`` (evaluation), ``alerts`` (incidents), ``notify`` (webhook, log), ``service``
(FastAPI app factory), ``client`` (:class:`tripwire.Monitor`).
"""
