"""`make bench`: every rlscale benchmark in one process, one JSON file and one markdown table.

    python -m benchmarks.run [--size cpu|gpu|smoke] [--only NAME ...] [--out DIR] [--no-readme]
    python -m benchmarks.run --merge A.json B.json ...   # reports of disjoint sections -> one

Writes `<out>/<device>-<date>-<size>.json` (every number, with the sizes used) and replaces this
size's results block in benchmarks/README.md (unless --no-readme). Sections (see each module):
sweep, brax, compile, bare, memory, env_throughput, fit_speed, agents, and brax_paper (only when named:
over an hour on a CPU). `brax` and `memory` use the sweep's runs, so selecting them runs `sweep` too.
Every calibration is measured in the run (a fresh `RLSCALE_CACHE_DIR`), so the calibrated estimate
is judged against walls of the same machine state.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import jax

from benchmarks import (
    agents_throughput,
    bare_update,
    brax_paper_width,
    brax_sac,
    compile_time,
    env_throughput,
    fit_speed,
    memory,
    sweep_vs_sequential,
)
from benchmarks.common import SIZES, BenchSize
from rlscale.envs.throughput import device_name
from rlscale.run.estimate import CACHE_ENV

DEFAULT_SECTIONS = ("sweep", "brax", "compile", "bare", "memory", "env_throughput", "fit_speed", "agents")
SECTIONS = (*DEFAULT_SECTIONS, "brax_paper")
"""Every section; brax_paper (over an hour on a CPU) runs only when named."""
REQUIRES = {"brax": ("sweep",), "memory": ("sweep",)}
RESULTS_DIR = Path(__file__).parent / "results"
README = Path(__file__).parent / "README.md"


def run_sections(size: BenchSize, names: tuple[str, ...]) -> dict:
    """Run the named sections (plus what they require) in SECTIONS order; {name: result}."""
    wanted = set(names) | {dep for name in names for dep in REQUIRES.get(name, ())}
    results = {}
    for name in SECTIONS:
        if name not in wanted:
            continue
        start = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        if name == "sweep":
            results[name] = sweep_vs_sequential.run(size)
        elif name == "brax":
            results[name] = brax_sac.run(size, results["sweep"])
        elif name == "compile":
            results[name] = compile_time.run(size)
        elif name == "bare":
            results[name] = bare_update.run(size)
        elif name == "memory":
            results[name] = memory.run(size, results["sweep"])
        elif name == "env_throughput":
            results[name] = env_throughput.run(size.env_throughput_size)
        elif name == "fit_speed":
            results[name] = fit_speed.run(size.fit_speed_size)
        elif name == "agents":
            results[name] = agents_throughput.run(size)
        elif name == "brax_paper":
            results[name] = brax_paper_width.run(size)
        results[name + "_seconds"] = time.perf_counter() - start
    return results


def _steps(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _over_estimate(row: dict) -> float:
    """A sweep group's run (its wall time after the calibration) over its calibrated estimate."""
    return (row["wall_s"] - row.get("calibration_s", 0.0)) / row["estimated_wall_s"]


def targets(results: dict) -> list[dict]:
    """The issue's targets, each with its measured value and whether it is met (None: not run)."""
    rows = []
    if "compile" in results:
        compile_rows = results["compile"]["rows"]
        last = compile_rows[-1]
        rows.append(_target(f"compile(K={last['num_configs']}) / compile(1), CPU seconds", last["cpu_ratio_to_k1"], "<=", 1.5))
        rows.append(_target(f"compile(K={last['num_configs']}) / compile(1), wall seconds", last["ratio_to_k1"], "<=", 1.5))
    if "bare" in results:
        bare = results["bare"]
        for row in bare["rows"]:
            axis = row["auto_config_axis"]
            rows.append(
                _target(
                    f"engine (auto: {axis}) / bare updates/s, width {row['hidden_width']}, K={row['num_configs']}, σ={bare['utd']}",
                    row[f"{axis}_over_bare"],
                    ">=",
                    0.9,
                )
            )
        axis = bare["mixed_auto_config_axis"]
        rows.append(_target(f"measured wasted fraction of the mixed group (auto: {axis})", bare["mixed"][axis]["measured_wasted_fraction"], "<=", 0.0))
    if "brax" in results:
        k16 = [row for row in results["brax"]["comparisons"] if row["num_configs"] == 16]
        for row in k16:
            rows.append(_target("K=16 sweep wall / Brax-sequential wall", row["wall_ratio_rlscale_over_brax"], "<=", 0.5))
    if "brax_paper" in results:
        paper = results["brax_paper"]
        for utd, by_threshold in paper["parity"].items():
            for threshold, row in by_threshold.items():
                if row["ratio"] is not None:
                    rows.append(_target(f"rlscale / Brax median env steps to {threshold} at σ={utd}", row["ratio"], "<=", 1.25))
        rows.append(_target("paper-width set: rlscale sweep wall / Brax sequential wall", paper["wall_ratio_rlscale_over_brax"], "<=", 0.9))
    if "sweep" in results:
        worst = max(results["sweep"]["groups"], key=lambda row: abs(math.log(_over_estimate(row))))
        rows.append(
            _target(
                f"|run / estimated - 1| of the sweep groups (worst K={worst['num_configs']})",
                abs(_over_estimate(worst) - 1),
                "<=",
                0.25,
            )
        )
        groups = {row["num_configs"]: row for row in results["sweep"]["groups"]}
        if 1 in groups and 64 in groups:
            ratio = groups[64]["steady_updates_per_s"] / groups[1]["steady_updates_per_s"]
            rows.append(_target("K=64 / K=1 aggregate updates/s (target is for a GPU)", ratio, ">=", 20.0))
    return rows


def _target(name: str, value: float, relation: str, bound: float) -> dict:
    met = value <= bound if relation == "<=" else value >= bound
    return {"target": f"{name} {relation} {bound:g}", "value": value, "met": bool(met)}


def markdown(report: dict) -> str:
    """The results block for benchmarks/README.md: the header and targets, then each section run."""
    results = report["results"]
    lines = _header_markdown(report)
    for name, section_markdown in SECTION_MARKDOWN.items():
        if name in results:
            lines += section_markdown(results[name])
    return "\n".join(lines) + "\n"


def _header_markdown(report: dict) -> list[str]:
    """The block's title, the run's sizes and the targets table."""
    meta = report["meta"]
    size = meta["size"]
    lines = [
        f"### `--size {size['name']}` on {meta['device']}",
        "",
        f"jax {meta['jax_version']}, {meta['date']}, {meta['total_seconds'] / 60:.1f} min in all "
        f"({meta['processes']} process{'es' if meta['processes'] > 1 else ''}); env "
        f"`{size['env']}`, 2×{size['hidden_width']} MLPs, num_envs {size['num_envs']}, "
        f"{size['env_steps']} env steps per config (first {size['learning_starts']} random), "
        f"η ∈ {list(size['learning_rates'])}, B ∈ {list(size['batch_sizes'])}, σ ∈ {list(size['utds'])}. "
        f"Raw numbers: `benchmarks/results/{meta['json']}`.",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['value']:.2f} | {'yes' if t['met'] else 'NO'} |" for t in report["targets"]]
    return lines


def _table(caption: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A captioned markdown table: a blank line, the caption, a blank line, the header, its rule and
    one line per row of cells."""
    return ["", caption, "", _table_row(columns), "|" + "---|" * len(columns), *(_table_row(cells) for cells in rows)]


def _table_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _sweep_markdown(sweep: dict) -> list[str]:
    """The sweep-vs-sequential table and its sequential steady state."""
    sequential = sweep["sequential"]
    caption = (
        "**Sweep vs sequential** (1 run per K; rates over the chunks after learning starts; "
        f"sequential = first {sequential['measured_configs']} configs as K=1 groups, "
        "* = extrapolated from them; wall includes the calibration, which the estimate is not of):"
    )
    columns = (
        "K", "wall s", "calibration s", "estimated s", "(wall - calibration) / estimated", "compile wall s (CPU s)",
        "updates/s", "env steps/s", "wasted", "sequential wall s", "wall speedup", "updates/s vs sequential",
    )
    rows = [
        (
            f"{row['num_configs']}", f"{row['wall_s']:.1f}", f"{row.get('calibration_s', 0.0):.1f}",
            f"{row['estimated_wall_s']:.1f}", f"{_over_estimate(row):.2f}",
            f"{row['compile_s']:.1f} ({row['compile_cpu_s']:.1f})", f"{row['steady_updates_per_s']:.0f}",
            f"{row['steady_env_steps_per_s']:.0f}", f"{row['measured_wasted_fraction']:.2f}",
            f"{row['sequential_wall_s']:.1f}" + ("*" if row["sequential_extrapolated"] else ""),
            f"{row['wall_speedup_vs_sequential']:.2f}×", f"{row['updates_speedup_vs_sequential']:.2f}×",
        )
        for row in sweep["groups"]
    ]
    return _table(caption, columns, rows) + [
        f"\nSequential steady state: {sequential['steady_updates_per_s']:.0f} updates/s, "
        f"{sequential['steady_env_steps_per_s']:.0f} env steps/s."
    ]


def _brax_markdown(brax: dict) -> list[str]:
    """The wall times and final returns against Brax SAC at the benchmark's width."""
    walls = _table(
        f"**vs Brax SAC** (Brax run for the first {len(brax['runs'])} configs, 1 run each; "
        "* = Brax-sequential wall time extrapolated linearly from them):",
        ("K", "rlscale group wall s", "Brax sequential wall s", "rlscale / Brax"),
        [
            (
                f"{row['num_configs']}", f"{row['rlscale_wall_s']:.1f}",
                f"{row['brax_sequential_wall_s']:.1f}" + ("*" if row["brax_extrapolated"] else ""),
                f"{row['wall_ratio_rlscale_over_brax']:.2f}",
            )
            for row in brax["comparisons"]
        ],
    )
    returns = _table(
        f"Final deterministic return (random policy ≈ -1227 on pendulum; rlscale from the K="
        f"{brax['rlscale_returns_from_k']} group):",
        ("config", "Brax return (first eval → last)", "rlscale return"),
        [
            (f"{run['config_id']}", f"{run['returns'][0]:.0f} → {run['final_return']:.0f}", f"{ours:.0f}")
            for run, ours in zip(brax["runs"], brax["rlscale_final_returns"])
        ],
    )
    return walls + returns


def _compile_markdown(compile_result: dict) -> list[str]:
    """The compile-time table."""
    return _table(
        f"**Compile time** (init + train_chunk + evaluate, cold caches, median of {compile_result['repetitions']}):",
        ("K", "compile wall s", "/ compile(1)", "compile CPU s", "/ compile(1)"),
        [
            (
                f"{row['num_configs']}", f"{row['compile_s']:.1f}", f"{row['ratio_to_k1']:.2f}",
                f"{row['compile_cpu_s']:.1f}", f"{row['cpu_ratio_to_k1']:.2f}",
            )
            for row in compile_result["rows"]
        ],
    )


def _bare_markdown(bare: dict) -> list[str]:
    """The distance-to-the-limit table and the mixed group."""
    caption = (
        f"**Distance to the limit** (σ={bare['utd']}, B={bare['batch_size']}, "
        f"{bare['updates_per_config']} updates per config per timed run; {bare['repetitions']} rounds, each "
        "timing map, vmap and bare one after the other: rates are medians over rounds, ratios medians "
        "of each round's ratio; "
        "FLOPs per update from XLA's cost analysis; GEMM: a chain of [B, width] × [width, width] matmuls):"
    )
    columns = (
        "width", "K", "auto", "map updates/s", "vmap updates/s", "bare updates/s", "map / bare", "vmap / bare",
        "GFLOP per update", "bare GFLOP/s", "GEMM GFLOP/s", "map / GEMM", "bare / GEMM",
    )
    rows = [
        (
            f"{row['hidden_width']}", f"{row['num_configs']}", f"{row['auto_config_axis']}",
            f"{row['map_updates_per_s']:.0f}", f"{row['vmap_updates_per_s']:.0f}", f"{row['bare_updates_per_s']:.0f}",
            f"{row['map_over_bare']:.2f}", f"{row['vmap_over_bare']:.2f}", f"{row['flops_per_update'] / 1e9:.3f}",
            f"{row['bare_updates_per_s'] * row['flops_per_update'] / 1e9:.1f}",
            f"{row['update_gemm_flops_per_s'] / 1e9:.1f}", f"{row['map_fraction_of_gemm']:.2f}",
            f"{row['bare_fraction_of_gemm']:.2f}",
        )
        for row in bare["rows"]
    ]
    mixed = bare["mixed"]
    mixed_line = (
        f"Large {bare['large_matmul_size']}² matmul: {bare['large_matmul_flops_per_s'] / 1e9:.1f} GFLOP/s. "
        f"**Mixed group** ({bare['mixed_configs']} configs, σ ∈ {bare['mixed_utds']}, B ∈ "
        f"{bare['mixed_batch_sizes']}, one group; planned waste under vmap "
        f"{bare['mixed_planned_wasted_fraction']:.3f}): "
        + "; ".join(
            f"{axis} {mixed[axis]['updates_per_s']:.0f} useful updates/s, measured waste "
            f"{mixed[axis]['measured_wasted_fraction']:.3f}"
            for axis in mixed
        )
        + "."
    )
    return _table(caption, columns, rows) + ["", mixed_line]


def _brax_paper_markdown(paper: dict) -> list[str]:
    """The paper-width comparison with Brax SAC: steps to 600 and 800 per config and their medians."""
    size = paper["size"]
    caption = (
        f"**vs Brax SAC at paper width** (`{size['env']}`, 2×{size['hidden_width']}, B={size['batch_size']}, "
        f"{size['num_envs']} envs, {size['env_steps']} env steps per config, σ ∈ {list(size['utds'])}; one "
        "rlscale sweep vs Brax one call after another"
        + (", Brax's calls interleaved between rlscale's chunks" if paper.get("interleaved") else "")
        + f"): rlscale {paper['rlscale_wall_s']:.0f} s ("
        + (f"calibration included: {paper['rlscale_calibration_s']:.0f} s" if "rlscale_calibration_s" in paper
           else "its start-up calibration not counted")
        + f"), Brax {paper['brax_sequential_wall_s']:.0f} s "
        f"(its compiles included), ratio {paper['wall_ratio_rlscale_over_brax']:.2f}."
    )
    columns = ("σ", "seed", "rlscale steps to 600", "to 800", "final", "best", "Brax steps to 600", "to 800", "final",
               "best")
    rows = [
        (f"{row['utd']:g}", f"{row['seed']}", *_curve_cells(row["rlscale"]), *_curve_cells(row["brax"]))
        for row in paper["rows"]
    ]
    medians = [
        f"- σ={utd}, return {threshold}: rlscale {_steps(row['rlscale_median_steps'])}, Brax "
        f"{_steps(row['brax_median_steps'])}"
        + (f", ratio {row['ratio']:.2f}" if row["ratio"] is not None else "")
        for utd, by_threshold in paper["parity"].items()
        for threshold, row in by_threshold.items()
    ]
    return _table(caption, columns, rows) + [
        "", "Median env steps over the seeds (— : half or more never reached it):", "", *medians
    ]


def _curve_cells(summary: dict) -> tuple[str, str, str, str]:
    """A learning curve's steps to 600 and to 800, final and best return (brax_paper's table)."""
    best = max(value for _, value in summary["curve"])
    return (
        _steps(summary["steps_to_600"]), _steps(summary["steps_to_800"]), f"{summary['final_return']:.0f}", f"{best:.0f}"
    )


def _memory_markdown(mem: dict) -> list[str]:
    """Bytes per config and the planner's estimate against XLA's peak."""
    return _table(
        f"**Memory**: {mem['state_bytes_per_config'] / 2**20:.2f} MiB of device state per config "
        f"({mem['agent_bytes_per_config'] / 2**10:.0f} KiB agent, the rest replay of "
        f"{mem['replay_capacity']} transitions at {mem['replay_bytes_per_transition']:.0f} B each). "
        f"Device memory {mem['device_memory_bytes'] / 2**30:.1f} GiB fits K ≤ {mem['max_configs_planner']} "
        f"by the planner's estimate ({mem['planner_bytes_per_config'] / 2**20:.2f} MiB per config), "
        f"K ≤ {mem['max_configs_planner_paper_replay']} with a {mem['paper_replay_capacity']:,}-transition "
        "replay. Planner estimate vs XLA's peak for one train_chunk call:",
        ("K", "state MiB", "planner estimate MiB", "measured peak MiB", "estimate / measured"),
        [
            (
                f"{row['num_configs']}", f"{row['state_bytes'] / 2**20:.2f}",
                f"{row['planner_estimate_bytes'] / 2**20:.2f}", f"{row['measured_peak_bytes'] / 2**20:.2f}",
                f"{row['estimate_over_measured']:.2f}",
            )
            for row in mem["checks"]
        ],
    )


def _env_throughput_markdown(rows: list) -> list[str]:
    """The env-throughput table."""
    return _table(
        f"**Env throughput** (benchmarks/env_throughput.py, median of {rows[0]['repetitions']}):",
        ("env", "options", "num_envs", "compile s", "steps/s"),
        [
            (f"{row['env']}", f"{row['options'] or ''}", f"{row['num_envs']}", f"{row['compile_s']:.1f}",
             f"{row['steps_per_s']:.0f}")
            for row in rows
        ],
    )


def _fit_speed_markdown(fit: dict) -> list[str]:
    """The fit-speed line."""
    return [
        "",
        f"**Fit speed** (benchmarks/fit_speed.py, 1 run): {fit['rows']:,} rows, {fit['configs']} configs, "
        f"{fit['n_bootstrap']} bootstrap resamples fitted in {fit['fit_seconds']:.1f} s "
        f"(target ≤ {fit['target_seconds']:.0f} s: {'met' if fit['within_target'] else 'NOT met'}).",
    ]


def _agents_markdown(rows: list) -> list[str]:
    """The per-agent throughput table."""
    return _table(
        "**Agents** (benchmarks/agents_throughput.py, median of timed chunks after warm-up chunks; UTD 1 "
        "per transition, PQL with 16 envs per config; \"per-config branch\": BRO's resets / PQL's delayed "
        "actor update decided per config inside the vmap instead of at group level):",
        ("algo", "variant", "K", "num_envs", "parameters", "updates/s", "env steps/s", "compile + warm-up s"),
        [
            (
                f"{row['algo']}", f"{row.get('variant', 'preset')}", f"{row['num_configs']}", f"{row['num_envs']}",
                f"{row['parameter_count']:,}", f"{row['updates_per_s']:.0f}", f"{row['env_steps_per_s']:.0f}",
                f"{row['compile_and_warmup_s']:.1f}",
            )
            for row in rows
        ],
    )


SECTION_MARKDOWN = {
    "sweep": _sweep_markdown,
    "brax": _brax_markdown,
    "compile": _compile_markdown,
    "bare": _bare_markdown,
    "brax_paper": _brax_paper_markdown,
    "memory": _memory_markdown,
    "env_throughput": _env_throughput_markdown,
    "fit_speed": _fit_speed_markdown,
    "agents": _agents_markdown,
}
"""Each section's part of the results block, in the block's order."""


def update_readme(path: Path, size_name: str, block: str) -> None:
    """Replace (or append) the block between this size's results markers."""
    begin, end = f"<!-- results:{size_name} -->", f"<!-- /results:{size_name} -->"
    text = path.read_text() if path.exists() else ""
    new = f"{begin}\n{block}{end}"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: new, text) if pattern.search(text) else text.rstrip("\n") + f"\n\n{new}\n"
    path.write_text(text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def write_report(size: BenchSize, results: dict, total_seconds: float, out: Path, readme: bool, **meta) -> Path:
    """Write the JSON report (with the targets) and, if `readme`, this size's README block."""
    device = device_name()
    date = datetime.date.today().isoformat()
    path = out / f"{_slug(device)}-{date}-{size.name}.json"
    report = {
        "meta": {
            "device": device,
            "jax_version": jax.__version__,
            "date": date,
            "size": dataclasses.asdict(size),
            "sections": [name for name in SECTIONS if name in results],
            "total_seconds": total_seconds,
            "json": path.name,
            **meta,
        },
        "results": results,
        "targets": targets(results),
    }
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    block = markdown(report)
    if readme:
        update_readme(README, size.name, block)
    print(block)
    print(f"wrote {path}", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=tuple(SIZES), default="cpu", help="benchmark size (default cpu)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=DEFAULT_SECTIONS,
                        help="sections to run (default: all but brax_paper)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory of the JSON result")
    parser.add_argument("--no-readme", action="store_true", help="do not update benchmarks/README.md")
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        help="instead of running, combine reports of disjoint sections (e.g. run in parallel processes "
        "on a loaded machine) into one report",
    )
    args = parser.parse_args(argv)

    size = SIZES[args.size]
    if args.merge:
        reports = [json.loads(path.read_text()) for path in args.merge]
        results = {key: value for report in reports for key, value in report["results"].items()}
        total = max(report["meta"]["total_seconds"] for report in reports)
        write_report(size, results, total, args.out, not args.no_readme, processes=len(reports))
        return 0
    # Every calibration is measured in this run: a cache an earlier run left was measured in another
    # state of the machine, and the estimate is judged against this run's walls.
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="rlscale-bench-calibration-")
    start = time.perf_counter()
    results = run_sections(size, tuple(args.only))
    write_report(size, results, time.perf_counter() - start, args.out, not args.no_readme, processes=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
