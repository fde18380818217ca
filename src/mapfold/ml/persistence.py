"""``save(obj, path)`` and ``load(path)``: estimators, transformers and models as JSON.

A saved object is a folder (a local path or an fsspec URL such as
``s3://bucket/models/lr``) holding ``metadata.json``::

    {"mapfold_ml_format": 1, "class": "LogisticRegressionModel",
     "params": {"reg_param": 0.1, "coefficient_matrix": [[...]], ...}}

Parameters are JSON values (a fitted model keeps what it learnt as lists
of floats). A parameter holding other stages (a pipeline's ``stages``)
stores each in a sub-folder, ``stages/000-StringIndexerModel``, referenced
as ``{"$stage": "stages/000-StringIndexerModel"}``. ``load`` builds only
the classes ``mapfold.ml`` exports, by name, from that data: loading never
unpickles or imports code, so a saved model from an untrusted place is
data, not a program. Floats are written by ``json`` with ``repr`` precision,
so a loaded model predicts exactly what the saved one did.

A tuner's ``estimator_param_maps`` (``CrossValidator``,
``TrainValidationSplit`` and their models) are saved as lists of
``[key, value]`` pairs, a ``(stage, name)`` key as
``{"$stage_index": i, "name": name}``: the position of the stage among
the saved estimator's stages (``null`` for the estimator itself), so the
loaded maps name the loaded estimator's stages, as PySpark's name their
parent's uid. A ``CrossValidatorModel`` keeps ``best_model``, the
metrics and, when collected, ``sub_models`` in sub-folders.
"""
from __future__ import annotations

import json
import math
from typing import Any

from ..core.errors import MapfoldError, OutputExistsError
from .base import Params

__all__ = ["save", "load", "FORMAT"]

FORMAT = 1


def _classes() -> dict[str, type]:
    """The classes ``load`` may build: those ``mapfold.ml`` exports, by name."""
    import importlib

    package = importlib.import_module(__package__)
    found = {name: getattr(package, name) for name in package.__all__}
    return {name: cls for name, cls in found.items() if isinstance(cls, type) and issubclass(cls, Params)}


def _open_fs(path: str, storage_options: dict | None):
    from fsspec.core import url_to_fs

    return url_to_fs(str(path), **(storage_options or {}))


def _encode(value: Any, fs, root: str, where: str, counter: list) -> Any:
    if isinstance(value, Params):
        folder = f"{where}/{counter[0]:03d}-{type(value).__name__}"
        counter[0] += 1
        _write(value, fs, f"{root}/{folder}")
        return {"$stage": folder}
    if isinstance(value, (list, tuple)):
        return [_encode(v, fs, root, where, counter) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise NotImplementedError("save: a dict parameter with non-str keys (a parameter map keyed by "
                                      "stages) cannot be saved yet; save the fitted best_model instead")
        return {k: _encode(v, fs, root, where, counter) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return {"$float": repr(value)}  # JSON has no inf/nan
        return value
    if hasattr(value, "tolist"):  # a numpy array or scalar
        return _encode(value.tolist(), fs, root, where, counter)
    raise TypeError(f"save: cannot save a parameter of type {type(value).__name__}")


PARAM_MAPS = "estimator_param_maps"


def _stage_index(estimator: Params, stage: Params) -> int | None:
    if stage is estimator:
        return None
    for i, candidate in enumerate(estimator.get_params().get("stages") or []):
        if candidate is stage:
            return i
    raise MapfoldError(f"save: a parameter map names a {type(stage).__name__} that is neither the "
                       f"estimator ({type(estimator).__name__}) nor one of its stages")


def _encode_param_maps(maps: list, estimator: Params) -> list:
    encoded = []
    for param_map in maps:
        pairs = []
        for key, value in param_map.items():
            if not isinstance(key, str):
                stage, name = key
                key = {"$stage_index": _stage_index(estimator, stage), "name": name}
            pairs.append([key, _encode(value, None, "", "", [0])])
        encoded.append(pairs)
    return encoded


def _decode_param_maps(encoded: list, estimator: Params) -> list:
    maps = []
    for pairs in encoded:
        param_map = {}
        for key, value in pairs:
            if isinstance(key, dict):
                index = key["$stage_index"]
                stage = estimator if index is None else estimator.get_params()["stages"][index]
                key = (stage, key["name"])
            param_map[key] = _decode(value, None, "", {})
        maps.append(param_map)
    return maps


def _write(obj: Params, fs, folder: str) -> None:
    fs.makedirs(folder, exist_ok=True)
    params = {}
    for name, value in obj.get_params().items():
        if name == PARAM_MAPS and isinstance(obj.get_params().get("estimator"), Params):
            params[name] = {"$param_maps": _encode_param_maps(value, obj.get_params()["estimator"])}
            continue
        params[name] = _encode(value, fs, folder, name, [0])
    meta = {"mapfold_ml_format": FORMAT, "class": type(obj).__name__, "params": params}
    with fs.open(f"{folder}/metadata.json", "w") as out:
        json.dump(meta, out, indent=1)


def save(obj: Params, path: str, overwrite: bool = False, storage_options: dict | None = None) -> None:
    """Write ``obj`` (an estimator, transformer or model of ``mapfold.ml``) under the folder ``path``.

    >>> import tempfile
    >>> from mapfold.ml import StringIndexerModel
    >>> folder = tempfile.mkdtemp() + "/indexer"
    >>> save(StringIndexerModel(labels=["b", "a"], input_col="c", output_col="i"), folder)
    >>> load(folder).labels
    ['b', 'a']
    """
    if not isinstance(obj, Params):
        raise TypeError(f"save: expected a mapfold.ml estimator, transformer or model; got {type(obj).__name__}")
    fs, root = _open_fs(path, storage_options)
    root = root.rstrip("/")
    if fs.exists(root) and not overwrite:
        raise OutputExistsError(f"save: {path} exists; pass overwrite=True to replace it")
    if fs.exists(root):
        fs.rm(root, recursive=True)
    _write(obj, fs, root)


def _decode(value: Any, fs, root: str, classes: dict) -> Any:
    if isinstance(value, list):
        return [_decode(v, fs, root, classes) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$stage"}:
            return _read(fs, f"{root}/{value['$stage']}", classes)
        if set(value) == {"$float"}:
            return float(value["$float"])
        return {k: _decode(v, fs, root, classes) for k, v in value.items()}
    return value


def _read(fs, folder: str, classes: dict) -> Params:
    with fs.open(f"{folder}/metadata.json", "r") as source:
        meta = json.load(source)
    if meta.get("mapfold_ml_format") != FORMAT:
        raise MapfoldError(f"load: {folder} is not a saved mapfold.ml object of format {FORMAT} "
                           f"(metadata.json says {meta.get('mapfold_ml_format')!r})")
    cls = classes.get(meta.get("class"))
    if cls is None:
        raise MapfoldError(f"load: {folder} holds a {meta.get('class')!r}, not a class mapfold.ml exports")
    params = {name: _decode(v, fs, folder, classes) for name, v in meta["params"].items()
              if not (isinstance(v, dict) and "$param_maps" in v)}
    for name, v in meta["params"].items():
        if isinstance(v, dict) and "$param_maps" in v:
            params[name] = _decode_param_maps(v["$param_maps"], params["estimator"])
    return cls(**params)


def load(path: str, storage_options: dict | None = None) -> Params:
    """The object ``save`` wrote under ``path``; no code is unpickled or imported."""
    fs, root = _open_fs(path, storage_options)
    return _read(fs, root.rstrip("/"), _classes())
