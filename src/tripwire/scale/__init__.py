"""Profiles that merge, data larger than memory, and engines that make profiles at scale.

``profile(data)`` streams files in bounded memory (local engine) or runs on a Dask cluster;
``profile_drift(reference, current)`` compares two profiles without the raw data.
"""

from __future__ import annotations

from tripwire.scale.profile import (
    ColumnProfile,
    DatasetProfile,
    is_profile_file,
    load_profile,
    profile_frame,
)

__all__ = [
    "ColumnProfile",
    "DatasetProfile",
    "is_profile_file",
    "load_profile",
    "profile_frame",
]

from tripwire.scale.engines import DaskEngine, Engine, LocalEngine, get_engine, profile

__all__ += ["DaskEngine", "Engine", "LocalEngine", "get_engine", "profile"]

from tripwire.scale.drift import compare_profiles, profile_drift  # noqa: E402

__all__ += ["compare_profiles", "profile_drift"]
