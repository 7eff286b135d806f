"""Progress views: a live `rich` table on a terminal, one plain line per evaluation elsewhere."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table


class PlainProgress:
    """One line per evaluation, for logs and CI."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def start_group(self, index: int, num_groups: int, group_summary: dict) -> None:
        print(
            f"group {index + 1}/{num_groups}: {group_summary['configs']} configs, "
            f"utd {group_summary['utd']}, batch {group_summary['batch_size']}, "
            f"planned waste {group_summary['planned_wasted_fraction']:.2f}",
            file=self.stream,
            flush=True,
        )

    def note(self, text: str) -> None:
        print(f"note: {text}", file=self.stream, flush=True)

    def update(self, status: dict) -> None:
        print(
            f"group {status['group'] + 1} env_step {status['env_step']}/{status['env_steps']} "
            f"env_steps/s {status['env_steps_per_s']:.0f} updates/s {status['updates_per_s']:.0f} "
            f"best_return {status['best_return']:.1f} eta {status['eta_s']:.0f}s"
            + (f" diverged {status['diverged']}" if status["diverged"] else ""),
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        pass


class LiveProgress:
    """A live table: one row per group with throughput, ETA, best return and diverged configs."""

    def __init__(self):
        self.console = Console()
        self.rows: dict[int, dict] = {}
        self.live = Live(self._table(), console=self.console, refresh_per_second=4)
        self.live.start()

    def start_group(self, index: int, num_groups: int, group_summary: dict) -> None:
        self.rows[index] = {"group": index, "configs": group_summary["configs"], "started": time.time()}
        self.live.update(self._table())

    def note(self, text: str) -> None:
        self.console.print(f"note: {text}")

    def update(self, status: dict) -> None:
        self.rows[status["group"]].update(status)
        self.live.update(self._table())

    def close(self) -> None:
        self.live.stop()

    def _table(self) -> Table:
        table = Table(title="rlscale sweep")
        for column in ("group", "configs", "env step", "env steps/s", "updates/s", "ETA", "best return", "diverged"):
            table.add_column(column, justify="right")
        for row in self.rows.values():
            if "env_step" not in row:
                table.add_row(str(row["group"] + 1), str(row["configs"]), "compiling", "", "", "", "", "")
                continue
            table.add_row(
                str(row["group"] + 1),
                str(row["configs"]),
                f"{row['env_step']}/{row['env_steps']}",
                f"{row['env_steps_per_s']:.0f}",
                f"{row['updates_per_s']:.0f}",
                f"{row['eta_s']:.0f}s",
                f"{row['best_return']:.1f}",
                str(len(row["diverged"])),
            )
        return table


def make_progress(live: bool | None = None):
    """LiveProgress when stdout is a terminal (or live=True), else PlainProgress."""
    if live is None:
        live = sys.stdout.isatty()
    return LiveProgress() if live else PlainProgress()
