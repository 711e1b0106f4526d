"""MLflow as an alternative registry: push tripwire versions to it, pull models from it.

Where MLflow is installed (``pip install 'tripwire[mlflow]'``, the ``mlflow-skinny`` client):

- :func:`push` registers a tripwire version in an MLflow model registry: the fitted model is
  logged with ``mlflow.sklearn``, registered under the same name, and tagged with tripwire's
  artifact hash, training-data fingerprint and audit counts; its held-out metrics are logged on
  the run; tripwire's aliases (``champion``, ``challenger``) are mirrored as MLflow aliases.
- :func:`pull` loads a model from an MLflow URI (``models:/name@champion``,
  ``models:/name/3``, ``runs:/...``) so ``tripwire registry add NAME models:/...`` registers it
  in tripwire, where serving, the gate and the trail work as for any other version.

Loading an MLflow sklearn model unpickles it, exactly like a joblib file: only pull from
registries you trust. tripwire records the SHA-256 of the copy it makes and checks it on every
later load.
"""

from __future__ import annotations

from typing import Any

from tripwire.errors import InputError, MissingDependencyError
from tripwire.lifecycle.registry import Registry


def _mlflow() -> Any:
    try:
        import mlflow
        import mlflow.sklearn
    except ImportError as exc:
        raise MissingDependencyError("The MLflow registry bridge", "mlflow", "mlflow") from exc
    return mlflow


def is_mlflow_uri(value: str) -> bool:
    """Whether a MODEL argument names an MLflow model rather than a file.

    >>> is_mlflow_uri("models:/churn@champion"), is_mlflow_uri("model.joblib")
    (True, False)
    """
    return value.startswith(("models:/", "runs:/", "mlflow-artifacts:/"))


def pull(uri: str, tracking_uri: str | None = None) -> Any:
    """The fitted scikit-learn model at an MLflow URI."""
    mlflow = _mlflow()
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    try:
        return mlflow.sklearn.load_model(uri)
    except Exception as exc:
        raise InputError(
            f"could not load {uri} from MLflow ({type(exc).__name__}: {exc}). Check the name, "
            "version or alias, and --mlflow-uri (or MLFLOW_TRACKING_URI)."
        ) from exc


def _trusted(model: Any) -> dict[str, Any]:
    """MLflow 3 saves sklearn models with skops and refuses types it cannot vouch for.

    The model comes from tripwire's own artifact, whose hash was checked on load, so the
    types it is made of are the ones that were registered: name them as trusted.
    """
    try:
        import skops.io as sio
    except ImportError:  # pragma: no cover - the service extra installs skops
        return {}
    import inspect

    params = inspect.signature(_mlflow().sklearn.log_model).parameters
    if "skops_trusted_types" not in params:
        return {}
    return {"skops_trusted_types": sio.get_untrusted_types(data=sio.dumps(model))}


def push(
    registry: Registry,
    name: str,
    version: int | str,
    tracking_uri: str | None = None,
    registered_name: str | None = None,
) -> dict[str, Any]:
    """Register tripwire's ``name`` ``version`` in MLflow; returns what MLflow assigned."""
    mlflow = _mlflow()
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mv, model = registry.load(name, version)
    target = registered_name or name
    tags = {
        "tripwire.model": name,
        "tripwire.version": str(mv.version),
        "tripwire.sha256": mv.sha256,
        "tripwire.train_fingerprint": mv.train_fingerprint or "",
        "tripwire.train_rows": str(mv.train_rows or ""),
    }
    audit = mv.to_dict()["audit"] or {}
    for severity, count in (audit.get("counts") or {}).items():
        tags[f"tripwire.audit.{severity}"] = str(count)
    with mlflow.start_run(run_name=f"tripwire {name} v{mv.version}") as run:
        for key, value in (mv.metrics or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                mlflow.log_metric(key, float(value))
        mlflow.set_tags(tags)
        info = mlflow.sklearn.log_model(
            model, name="model", registered_model_name=target, **_trusted(model)
        )
    ml_version = str(info.registered_model_version)
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(target, ml_version, key, value)
    aliases = [a for a, v in registry.aliases(name).items() if v == mv.version]
    for alias in aliases:
        client.set_registered_model_alias(target, alias, ml_version)
    registry.record(
        name,
        "export",
        actor="mlflow-bridge",
        version=mv.version,
        reason=f"registered in MLflow as {target} version {ml_version}",
        evidence={"tracking_uri": mlflow.get_tracking_uri(), "run_id": run.info.run_id},
    )
    return {
        "name": target,
        "version": ml_version,
        "aliases": aliases,
        "run_id": run.info.run_id,
        "uri": f"models:/{target}/{ml_version}",
    }
