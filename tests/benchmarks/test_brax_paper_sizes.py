"""The paper-width side by side with Brax (`--only brax_paper`): every size is a valid sweep.

Its cpu size runs for hours, so a config the planner refuses would otherwise surface only after the
first minutes of a long run (this check costs no compile). The slow-marked test runs the section end
to end at its smoke size.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import brax_paper_width
from benchmarks.common import SIZES, sweep_config
from rlscale.config import RunConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(brax_paper_width.PAPER_SIZES))
def test_every_paper_width_size_is_a_valid_sweep(name):
    paper = brax_paper_width.PAPER_SIZES[name]
    bench = brax_paper_width._bench_size(SIZES[name], paper)
    configs = [
        RunConfig(index, utd, paper.batch_size, brax_paper_width.PAPER_LEARNING_RATE, seed)
        for index, (utd, seed) in enumerate((u, s) for u in paper.utds for s in range(paper.seeds))
    ]
    sweep_config(bench, configs, paper.env_steps).validate()
    assert paper.env_steps % paper.eval_interval == 0
    assert all(float(utd * paper.num_envs).is_integer() for utd in paper.utds), "Brax needs σ·num_envs updates per step"


@pytest.mark.parametrize("chunks, calls", [(25, 6), (15, 6), (2, 1), (3, 7), (6, 6)])
def test_brax_calls_sit_evenly_among_the_chunks(chunks, calls):
    after = brax_paper_width.brax_calls_after_chunk(chunks, calls)
    assert len(after) == chunks and sum(after) == calls
    finished_at = [chunk for chunk, due in enumerate(after, start=1) for _ in range(due)]
    for call, chunk in enumerate(finished_at):
        ideal = (call + 0.5) * chunks / calls
        assert ideal <= chunk < ideal + 1 or (chunk == 1 and ideal < 1)


@pytest.mark.slow
def test_brax_paper_section_runs_end_to_end(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "smoke", "--out", str(tmp_path), "--no-readme",
         "--only", "brax_paper"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    (path,) = tmp_path.glob("*-smoke.json")
    paper = json.loads(path.read_text())["results"]["brax_paper"]
    assert [(row["utd"], row["seed"]) for row in paper["rows"]] == [(1.0, 0)]
    assert paper["rows"][0]["rlscale"]["curve"] and paper["rows"][0]["brax"]["curve"]
    assert paper["rlscale_wall_s"] > 0 and paper["brax_sequential_wall_s"] > 0
    assert "brax_paper row " in completed.stderr
    assert paper["interleaved"]
    assert completed.stderr.index("brax_paper rlscale chunk 0") < completed.stderr.index("brax_paper brax ") \
        < completed.stderr.index("brax_paper rlscale chunk 1")
