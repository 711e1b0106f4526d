"""Failure mode 7: ML is not a one-time task — retrain, gate, promote, roll back.

Pure decisions live here (:mod:`gate`, :mod:`triggers`, :mod:`rollback`); the registry and the
loop use the monitor's store for state.
"""
