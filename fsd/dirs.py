"""The directories a running switch uses, from ``-base`` and the per-directory flags."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

#: Every directory under the base, in the order FreeSWITCH users know them.
DIR_NAMES = ("conf", "log", "run", "db", "scripts", "sounds", "recordings", "storage", "temp")


def default_base() -> str:
    """``$FSD_BASE`` if set, else ``~/.fsd``."""
    return os.environ.get("FSD_BASE") or os.path.join(os.path.expanduser("~"), ".fsd")


def _embedded(package_dir: str, repo_dir: str, marker: str) -> Path | None:
    """A directory fsd ships: ``fsd/<package_dir>`` as installed package data (a wheel or a
    plain ``pip install .``, found through importlib.resources), else the repository's own
    ``<repo_dir>`` beside ``fsd/`` (an editable install or a source checkout)."""
    try:
        packaged = Path(str(resources.files("fsd").joinpath(package_dir)))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - fsd itself always imports
        packaged = None
    repo = Path(__file__).resolve().parent.parent / repo_dir
    for cand in (packaged, repo):
        if cand is not None and (cand / marker).exists():
            return cand
    return None


def embedded_conf_dir() -> Path:
    """The embedded default configuration shipped with fsd (the repository's ``conf/``)."""
    found = _embedded("default_conf", "conf", "freeswitch.xml")
    if found is None:
        raise FileNotFoundError(
            "fsd's embedded default configuration is missing (fsd/default_conf/freeswitch.xml)")
    return found


def embedded_scripts_dir() -> Path | None:
    """The sample scripts shipped with fsd (the repository's ``scripts/``), if present."""
    return _embedded("default_scripts", "scripts", ".")


@dataclass
class Dirs:
    """Absolute paths of the switch's directories."""

    base: str
    conf: str = ""
    log: str = ""
    run: str = ""
    db: str = ""
    scripts: str = ""
    sounds: str = ""
    recordings: str = ""
    storage: str = ""
    temp: str = ""

    @classmethod
    def from_base(cls, base: str, **overrides: str | None) -> Dirs:
        """Directories under ``base`` unless overridden (``conf=``, ``log=``…)."""
        base = os.path.abspath(base)
        d = cls(base=base)
        for name in DIR_NAMES:
            value = overrides.get(name)
            setattr(d, name, os.path.abspath(value) if value else os.path.join(base, name))
        return d

    def create(self) -> None:
        """Create missing directories; fill an empty or missing conf/ (and scripts/) from the
        embedded defaults.  Raises ``OSError`` naming the directory on failure."""
        for f in fields(self):
            path = getattr(self, f.name)
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as e:
                raise OSError(f"cannot create directory {path}: {e.strerror}") from e
            if f.name != "base" and not os.access(path, os.W_OK | os.X_OK) and f.name != "conf":
                raise OSError(f"directory {path} is not writable")
        if not os.listdir(self.conf):
            shutil.copytree(embedded_conf_dir(), self.conf, dirs_exist_ok=True)
        src = embedded_scripts_dir()
        if src and not os.listdir(self.scripts):
            shutil.copytree(src, self.scripts, dirs_exist_ok=True)

    def as_globals(self) -> dict[str, str]:
        """The directory globals FreeSWITCH defines (``$${conf_dir}`` etc.)."""
        return {
            "base_dir": self.base,
            "conf_dir": self.conf,
            "log_dir": self.log,
            "run_dir": self.run,
            "db_dir": self.db,
            "script_dir": self.scripts,
            "sounds_dir": self.sounds,
            "recordings_dir": self.recordings,
            "storage_dir": self.storage,
            "temp_dir": self.temp,
        }
