"""Makes a plug-in package visible to `importlib.metadata` the way an editable install does, without
pip: the package's source directory on the path, and a `<name>.dist-info` with its METADATA and the
entry points of its pyproject.toml."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
TD3_PACKAGE = REPOSITORY / "examples" / "rlscale-td3"


def write_dist_info(site: Path, name: str, entry_points: dict[str, dict[str, str]], version: str = "0.1.0") -> Path:
    """A `<name>-<version>.dist-info` under `site` declaring `entry_points` ({group: {name: value}})."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, points in entry_points.items():
        lines += [f"[{group}]"] + [f"{key} = {value}" for key, value in points.items()] + [""]
    (dist_info / "entry_points.txt").write_text("\n".join(lines))
    return dist_info


def install_like_editable(package: Path, site: Path) -> list[Path]:
    """The path entries under which `package` (a directory with pyproject.toml) is importable and
    its entry points are found."""
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    write_dist_info(site, project["name"], project.get("entry-points", {}), project["version"])
    return [package, site]


def subprocess_env(*paths: Path) -> dict[str, str]:
    """os.environ with `paths` first on PYTHONPATH (then the repository, whose code is tested)."""
    existing = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), str(REPOSITORY), existing]).rstrip(os.pathsep)}
