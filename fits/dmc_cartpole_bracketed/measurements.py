"""What the measurement scripts beside this file share: the authors' cartpole-swingup grid
(../shared/data/dmc_sweep) as a table, and how a script writes its Markdown report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from rlscale.run.tables import load_runs

AUTHORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "dmc_sweep" / "dmc_sweep.csv.gz"
ENV = "cartpole-swingup"


def load_authors_cartpole() -> pd.DataFrame:
    """The authors' cartpole-swingup rows (6 σ × 5 B × 4 η × 10 seeds), `env` a plain string."""
    table = load_runs(AUTHORS)
    table = table[table["env"] == ENV].copy()
    table["env"] = table["env"].astype(str)
    return table


def write_report(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def run(main: Callable[[], None]) -> None:
    """`main()`, or a one-line exit when the authors' sweep is absent."""
    if not AUTHORS.exists():
        raise SystemExit(f"the authors' DMC sweep is not at {AUTHORS}")
    main()
