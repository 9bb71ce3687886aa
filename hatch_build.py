"""Build hook: the wheel and the sdist carry the front-end files the pages use (docs/architecture.md).

The files come from node_modules (installed from package-lock.json by `npm ci`, which this hook runs when
they are missing and npm is there); a wheel built from an sdist takes them from the sdist's copy. The list
is server/zitkg/web/vendor_files.py, the same one the server serves from.
"""

from __future__ import annotations

import runpy
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VENDOR = "server/zitkg/web/vendor"  # where an sdist keeps them (git-ignored in a checkout)


class FrontEndFiles(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        served = runpy.run_path(str(root / "server/zitkg/web/vendor_files.py"))["SERVED"]
        wanted = [(package, name) for package, names in sorted(served.items()) for name in sorted(names)]
        sources = self._sources(root, wanted)
        if sources is None and shutil.which("npm") and (root / "package-lock.json").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root, check=True)
            sources = self._sources(root, wanted)
        if sources is None:
            missing = [f"{p}/{n}" for p, n in wanted if not (root / "node_modules" / p / n).is_file()]
            raise RuntimeError(
                f"front-end files missing ({', '.join(missing[:3])}...): run `npm ci` (node 20) before building"
            )
        prefix = "zitkg/web/vendor" if self.target_name == "wheel" else VENDOR
        for (package, name), source in zip(wanted, sources, strict=True):
            build_data["force_include"][str(source)] = f"{prefix}/{package}/{name}"

    @staticmethod
    def _sources(root: Path, wanted: list[tuple[str, str]]) -> list[Path] | None:
        """Each file from node_modules, else from an sdist's vendor copy; None if any is in neither."""
        found = []
        for package, name in wanted:
            for base in (root / "node_modules", root / VENDOR):
                if (base / package / name).is_file():
                    found.append(base / package / name)
                    break
            else:
                return None
        return found
