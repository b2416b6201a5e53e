"""Harmonizing many composites on Ray Data (the ``[ray]`` extra): a manifest table (or two
folders) in, the images and a results table (Parquet) out, on this machine or a cluster.

* :mod:`~s2crnet.batch.manifest` - the manifest and the file systems of its paths;
* :mod:`~s2crnet.batch.worker` - what each actor runs: one Harmonizer, rows in, rows out;
* :mod:`~s2crnet.batch.run` - :func:`harmonize_dataset` (a Dataset in, a Dataset out) and
  :func:`harmonize_manifest` (the whole job, as ``s2crnet harmonize-batch`` runs it).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "read_manifest": "manifest",
    "BatchHarmonizer": "worker",
    "BatchSummary": "run",
    "harmonize_dataset": "run",
    "harmonize_manifest": "run",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
