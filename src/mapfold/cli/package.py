"""The code package ``mapfold submit`` ships: the script and the local modules it imports.

Local modules are found with ``ast``: every ``import x.y`` and ``from x
import y`` (relative ones too, at any depth in the file) resolved to a
``.py`` file under the package's roots (the script's folder, and the
working directory), followed transitively; a package brings its
``__init__.py`` files. Installed and standard modules are not local and
stay out. ``include`` adds files or folders as they are (data, configs).

The zip is reproducible: entries sorted, every timestamp 1980-01-01, mode
0644, so the same sources give the same bytes (and the same hash).

Before anything is written, every path is checked: none inside a ``.git``
folder or a virtualenv (a folder with ``pyvenv.cfg``, ``site-packages``),
no secrets file (``.env``, ``*.pem``, ``*.key``, ``credentials``,
``id_rsa``, ``.netrc``, ``.pypirc``...), and the total under the size
limit; a :class:`PackageError` names the offending path.
"""
from __future__ import annotations

import ast
import fnmatch
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from typing import Iterable

from ..core.config import format_size, parse_size
from ..core.errors import MapfoldError

__all__ = ["PackageError", "Package", "local_modules", "build_package", "check_path", "DEFAULT_MAX_SIZE"]

DEFAULT_MAX_SIZE = "50MB"
_EPOCH = (1980, 1, 1, 0, 0, 0)
SECRET_FILES = (".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "credentials", "credentials.*", "id_rsa",
                "id_rsa*", "id_ed25519*", "id_ecdsa*", ".netrc", ".pypirc", ".pgpass", "*.keytab", "secrets.*",
                ".git-credentials")
_VENV_PARTS = ("site-packages", "dist-packages")


class PackageError(MapfoldError):
    """The package would ship something it must not (or too much): names the path."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(f"{message}: {path}" if path else message)
        self.path = path


@dataclass
class Package:
    """The files of a package: ``{name in the zip: path on disk}``, and the zip once built."""

    script: str
    files: dict[str, str] = field(default_factory=dict)
    data: bytes = b""

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def write(self, path: str) -> str:
        with open(path, "wb") as f:
            f.write(self.data)
        return path


def _module_file(name: str, roots: list[str]) -> str | None:
    """The file of module ``name`` under one of ``roots``: ``a/b.py`` or ``a/b/__init__.py``."""
    parts = name.split(".")
    for root in roots:
        base = os.path.join(root, *parts)
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
    return None


def _imports(path: str, root: str) -> list[str]:
    """The absolute module names a file imports (relative imports resolved against its package)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    relative = os.path.relpath(path, root)
    package = os.path.dirname(relative).replace(os.sep, ".")
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = package.split(".") if package else []
                parent = parent[:len(parent) - (node.level - 1)] if node.level > 1 else parent
                base = ".".join(parent + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                names.append(base)
                names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def local_modules(script: str, roots: Iterable[str] | None = None) -> dict[str, str]:
    """``{name in the zip: path}`` of ``script`` and the local modules it imports, transitively.

    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "lib"))
    >>> for name, text in {"job.py": "import json\\nfrom lib import words\\n", "lib/__init__.py": "",
    ...                    "lib/words.py": "from .stop import STOP\\n", "lib/stop.py": "STOP = set()\\n"}.items():
    ...     _ = open(os.path.join(root, name), "w").write(text)
    >>> sorted(local_modules(os.path.join(root, "job.py")))
    ['job.py', 'lib/__init__.py', 'lib/stop.py', 'lib/words.py']
    """
    script = os.path.abspath(script)
    roots = [os.path.abspath(r) for r in (roots or [os.path.dirname(script)])]
    main_root = os.path.dirname(script)
    found = {os.path.relpath(script, main_root).replace(os.sep, "/"): script}
    pending = [(script, main_root)]
    seen = {script}
    while pending:
        path, root = pending.pop()
        for name in _imports(path, root):
            for prefix in _prefixes(name):  # a package's __init__ files come with its modules
                target = _module_file(prefix, roots)
                if target is None or target in seen:
                    continue
                seen.add(target)
                owner = next(r for r in roots if _module_file(prefix, [r]) == target)
                found[os.path.relpath(target, owner).replace(os.sep, "/")] = target
                pending.append((target, owner))
    return found


def _prefixes(name: str) -> list[str]:
    """``a.b.c`` -> ``['a', 'a.b', 'a.b.c']``.

    >>> _prefixes("a.b.c")
    ['a', 'a.b', 'a.b.c']
    """
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def check_path(path: str) -> None:
    """Refuse a path inside ``.git`` or a virtualenv, or a secrets file.

    >>> check_path("/work/app/lib/words.py")
    >>> check_path("/work/app/.env")
    Traceback (most recent call last):
    mapfold.cli.package.PackageError: refusing to package a secrets file (.env): /work/app/.env
    >>> check_path("/work/app/.git/config")
    Traceback (most recent call last):
    mapfold.cli.package.PackageError: refusing to package a .git folder: /work/app/.git/config
    """
    parts = os.path.abspath(path).split(os.sep)
    if ".git" in parts:
        raise PackageError("refusing to package a .git folder", path)
    for i in range(1, len(parts)):
        folder = os.sep.join(parts[:i]) or os.sep
        if parts[i - 1] in _VENV_PARTS or os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
            raise PackageError("refusing to package a virtualenv (its packages belong in requirements)", path)
    name = parts[-1]
    for pattern in SECRET_FILES:
        if fnmatch.fnmatch(name, pattern):
            raise PackageError(f"refusing to package a secrets file ({pattern})", path)


def _included(paths: Iterable[str], base: str) -> dict[str, str]:
    """Files and folders given with ``--include``, by their path relative to ``base``."""
    out: dict[str, str] = {}
    for path in paths:
        path = os.path.abspath(path)
        if os.path.isdir(path):
            check_path(os.path.join(path, ""))  # the folder itself: .git, a virtualenv
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    out[os.path.relpath(full, base).replace(os.sep, "/")] = full
        elif os.path.isfile(path):
            out[os.path.relpath(path, base).replace(os.sep, "/")] = path
        else:
            raise PackageError("no such file or folder to include", path)
    return out


def build_package(script: str, include: Iterable[str] = (), roots: Iterable[str] | None = None,
                  max_size: int | str = DEFAULT_MAX_SIZE, with_script: bool = True) -> Package:
    """The checked, reproducible zip of ``script``, its local modules and ``include``
    (``with_script=False``: the modules only, for workers that import every module of a
    zip they are given, as Dask's ``UploadFile`` does, while the script runs on the driver).

    >>> import os, tempfile, zipfile, io
    >>> root = tempfile.mkdtemp()
    >>> _ = open(os.path.join(root, "job.py"), "w").write("import helper\\n")
    >>> _ = open(os.path.join(root, "helper.py"), "w").write("X = 1\\n")
    >>> one, two = build_package(os.path.join(root, "job.py")), build_package(os.path.join(root, "job.py"))
    >>> one.data == two.data, zipfile.ZipFile(io.BytesIO(one.data)).namelist()
    (True, ['helper.py', 'job.py'])
    """
    script = os.path.abspath(script)
    files = local_modules(script, roots)
    if not with_script:
        files.pop(os.path.basename(script), None)
    for name, path in _included(include, os.path.dirname(script)).items():
        if name.startswith("../"):
            raise PackageError("an included path must be under the script's folder", path)
        files.setdefault(name, path)
    limit = parse_size(max_size)
    total = 0
    for name in sorted(files):
        check_path(files[name])
        total += os.path.getsize(files[name])
        if total > limit:
            raise PackageError(f"the package exceeds max_package_size {format_size(limit)} at", files[name])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(files[name], "rb") as f:
                archive.writestr(info, f.read())
    package = Package(script, dict(sorted(files.items())), buffer.getvalue())
    if package.size > limit:
        raise PackageError(f"the package ({format_size(package.size)}) exceeds max_package_size "
                           f"{format_size(limit)}", script)
    return package
