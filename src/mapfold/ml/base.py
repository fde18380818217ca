"""Estimators, models and transformers with their parameters as data.

The scikit-learn rules, in PySpark's shape: ``__init__`` only stores the
keyword parameters it is given over the class's ``_defaults`` (no work, no
checks of the data); ``get_params()`` returns them as a plain dict (what a
``ParamGridBuilder`` varies and a saved model writes as JSON);
``copy(**overrides)`` is a new, unfitted object with some parameters
changed; ``fit(ds)`` returns a new ``Model`` and never changes the
estimator. Unknown parameter names are a ``TypeError`` naming the valid
ones. Parameter values are checked by ``_check`` when used (at ``fit`` or
``transform``), so that building a grid of them is cheap.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ..core.errors import MapfoldError

__all__ = ["Params", "Transformer", "Estimator", "Model", "Evaluator", "ParamError", "check_choice"]


class ParamError(MapfoldError, ValueError):
    """A parameter value an estimator cannot use; the message names the class, the parameter and the value.

    >>> issubclass(ParamError, ValueError)
    True
    """


class Params:
    """Keyword parameters over the class defaults, as data.

    >>> class Demo(Params):
    ...     _defaults = {"alpha": 1.0, "beta": "x"}
    >>> d = Demo(alpha=2.0)
    >>> d.get_params()
    {'alpha': 2.0, 'beta': 'x'}
    >>> d.copy(beta="y").get_params()
    {'alpha': 2.0, 'beta': 'y'}
    >>> d.alpha
    2.0
    """

    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self._defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown parameter(s) {', '.join(unknown)}; "
                            f"valid: {', '.join(sorted(self._defaults))}")
        self._params = {**self._defaults, **params}

    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("_params")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def get_params(self) -> dict[str, Any]:
        """The parameters, defaults included, as a new dict."""
        return dict(self._params)

    def copy(self, **overrides: Any) -> "Params":
        """A new object of this class with ``overrides`` replacing some parameters."""
        return type(self)(**{**self._params, **overrides})

    def save(self, path: str, overwrite: bool = False, storage_options: dict | None = None) -> None:
        """Write this object as JSON under the folder ``path`` (``mapfold.ml.persistence``)."""
        from .persistence import save

        save(self, path, overwrite=overwrite, storage_options=storage_options)

    @classmethod
    def load(cls, path: str, storage_options: dict | None = None) -> "Params":
        """The object saved under ``path``, which must be a ``cls``."""
        from .persistence import load

        obj = load(path, storage_options=storage_options)
        if not isinstance(obj, cls):
            raise TypeError(f"{cls.__name__}.load: {path} holds a {type(obj).__name__}")
        return obj

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._params.items() if self._defaults.get(k, object()) != v}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # Equality and hashing stay by identity: a stage is a key of a parameter map
    # (``{(stage, "reg_param"): 0.1}``), as PySpark's ``lr.regParam`` names one stage.


class Transformer(Params):
    """Something with ``transform(ds) -> Dataset``, lazily: no runner is used."""

    def transform(self, ds):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.transform")


class Model(Transformer):
    """A fitted transformer: parameters plus what ``fit`` learnt (its state)."""


class Estimator(Params):
    """Something with ``fit(ds, runner=None) -> Model``; ``fit`` runs on the runner.

    ``fit_imports`` names the modules a fit imports (lazily): a tuner with
    ``parallelism`` imports them before it forks its pool, so the workers
    share them instead of each importing them again.
    """

    fit_imports: ClassVar[tuple[str, ...]] = ("numpy",)

    def all_fit_imports(self) -> tuple[str, ...]:
        """``fit_imports`` of this estimator (a pipeline: of its stages too).

        >>> Estimator().all_fit_imports()
        ('numpy',)
        """
        names = list(self.fit_imports)
        for stage in self.get_params().get("stages") or []:
            if isinstance(stage, Estimator):
                names += [n for n in stage.all_fit_imports() if n not in names]
        return tuple(names)

    def fit(self, ds, runner=None) -> Model:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.fit")


class Evaluator(Params):
    """``evaluate(ds, runner=None) -> float``, and whether larger is better."""

    def evaluate(self, ds, runner=None) -> float:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.evaluate")

    def is_larger_better(self) -> bool:
        return True


def check_choice(owner: Params, name: str, choices: tuple) -> Any:
    """The parameter ``name`` of ``owner``, a ``ValueError`` listing ``choices`` if not one of them."""
    value = owner.get_params()[name]
    if value not in choices:
        raise ParamError(f"{type(owner).__name__}: {name}={value!r} is not one of "
                         f"{', '.join(repr(c) for c in choices)}")
    return value
