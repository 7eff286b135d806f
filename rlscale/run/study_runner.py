"""Running a study (`rlscale study STUDY.toml --out DIR`): the protocol's stages in order
(rlscale/study.py), locally or through the Ray executor, each resumable: re-running the same command after a crash or kill -9
skips the stages recorded as done in `DIR/study_state.json` (replaced atomically after each stage)
and continues the interrupted one (a sweep from its checkpoints, a fit or a file from scratch).
`DIR/REPORT.md` is rewritten after every stage with its numbers and figures. A study whose grid has
two or more model sizes runs the (σ, N) stages (`rlscale.study.SIGMA_N_STAGES`): no stage 2; the
recommendation, held-out run and validation come from the grid fit's joint laws.

Layout of DIR:

    study.toml              the study config (a re-run must give the same one, up to the grid
                            extension's budget: see `_apply_extension_budget`)
    study_state.json        the finished stages
    grid/                   stage-1 sweep (run directory) and its learning curves
    grid_round_<k>.toml     the k-th extension of the grid (its new configs), and grid_round_<k>/ its runs
    grid_fit/               the fit of the whole grid (fit.json, figures, learning curves)
    stage2.toml             the proposed stage-2 sweep (and stage2.proposal.json)
    stage2/                 the stage-2 runs and their learning curves
    stage2_fit/             the fit with the grid's hyperparameter laws
    holdout.toml            the config recommended for the larger budget (and recommendation.json;
                            a (σ, N) study: at the width whose critic has N* parameters)
    holdout/                its runs
    validation/             validation.json and the figure (a (σ, N) study: against D_J(σ, N))
    REPORT.md               one section per finished stage
    writer.lock             held by the study process while it runs (run/lock.py)
    superseded_<k>/         the later stages' files, moved aside when a raised extension budget ran
                            another round
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import shutil
import time
from pathlib import Path

import tomli_w

from rlscale.config import ConfigError, SweepConfig, read_toml
from rlscale.laws.fit import fit_laws
from rlscale.laws.grid_edges import (
    BRACKETED,
    LIMITS,
    GridExtension,
    compact,
    describe,
    describe_unmade,
    fit_edge_report,
    propose_extension,
)
from rlscale.laws.horizon import DEFAULT_HORIZON_CUTS
from rlscale.laws.propose import propose_stage2
from rlscale.laws.recommend import recommend, recommend_at_utd
from rlscale.laws.recommend_sigma_n import recommend_at_model_size
from rlscale.laws.summaries import (
    budget_summary,
    fit_summary,
    format_recommendation,
    format_sigma_n_recommendation,
    format_validation,
    proposal_header,
)
from rlscale.laws.results import GridEdgeReport, tie_summary
from rlscale.laws.table import FitInputError
from rlscale.run.critic_width import infer_network, width_for
from rlscale.run.fit_files import (
    PROPOSAL_SUFFIX,
    fit_run_directory,
    load_fit,
    validate_run_directory,
    write_fit,
    write_learning_curves,
)
from rlscale.run.files import write_json_atomically, write_sweep_toml
from rlscale.run.lock import RunDirectoryLock
from rlscale.run.store import EVALS_FILE, read_evals
from rlscale.run.study_files import STATE_FILE, SUPERSEDED_PREFIX
from rlscale.run.tables import load_runs, load_tables
from rlscale.study import (
    SIGMA_N_STAGES,
    STAGES,
    StudyConfig,
    StudyError,
    extension_sweep_values,
    holdout_sweep_values,
    sigma_n_holdout_sweep_values,
    stage2_sweep_values,
)

ROUNDS_KEY = "grid_rounds"
"""The state file's list of the grid's extension rounds: round, directory, runs, the extension, done."""
STOP_KEY = "grid_extension_stop"
"""The state file's record of why the grid's extension stopped."""
HOLDOUT_CHOICE_KEY = "holdout_choice"
"""The state file's record of how a (σ, N) study chose its held-out model: the largest trained N, the
factor and target N, the threshold and where the width's depth came from."""
REPORT_FILE = "REPORT.md"
STUDY_COPY = "study.toml"
STAGE_OUTPUTS = {
    "grid_fit": ("grid_fit",),
    "propose": ("stage2.toml", f"stage2{PROPOSAL_SUFFIX}"),
    "stage2_sweep": ("stage2",),
    "stage2_fit": ("stage2_fit",),
    "recommend": ("holdout.toml", "recommendation.json"),
    "holdout_sweep": ("holdout",),
    "validate": ("validation",),
}
"""The files and folders in DIR that each stage after the grid's extension writes."""
STAGE_SWEEPS = {"grid_sweep": ("grid",), "stage2_sweep": ("stage2",), "holdout_sweep": ("holdout",)}
"""The sweep directories in DIR of each stage that trains (the grid's extension: its rounds', from the state)."""
SUPERSEDING_KEY = "superseding"
"""The state file's record of a move into DIR/superseded_<k>/ under way: its directory and the paths."""
HOLDOUT_ENV_STEPS_LIMIT = 4
"""The held-out run may take at most this many times the stage-2 (a (σ, N) study: the grid's) env steps
unless [holdout] env_steps says otherwise."""


def grid_fit_options(study: StudyConfig):
    """The grid fit's options: the study's, with the horizon cuts of DEFAULT_HORIZON_CUTS unless [fit] sets them."""
    options = study.fit_options()
    if "horizon_cuts" not in study.fit:
        options = dataclasses.replace(options, horizon_cuts=DEFAULT_HORIZON_CUTS)
    return options


def read_study(path: Path):
    """The StudyConfig of a STUDY.toml; `grid = "sweep.toml"` (relative to the study file) reads the
    grid sweep from that file instead of a [grid] table."""
    try:
        values = read_toml(path, str(path))
        if isinstance(values.get("grid"), str):
            values["grid"] = read_toml(path.parent / values["grid"], f"grid = {values['grid']!r}: {path.parent / values['grid']}")
    except ConfigError as error:
        raise StudyError(error.errors) from None
    return StudyConfig.from_dict(values)


class StudyRunner:
    """Runs a study's stages into `out`, skipping those its state file records as done."""

    def __init__(
        self, study, out: Path, executor: str = "local", address: str | None = None, live: bool | None = None,
        tracker: list[str] | None = None,
    ):
        self.study, self.out = study, Path(out)
        self.executor_name, self.address, self.live = executor, address, live
        self.tracker = tracker
        """Trackers for every sweep of the study, replacing the sweep files' `tracker` (None: theirs)."""
        self.earlier_extension = None
        """The grid extension settings the study ran with before, when this config changes only their
        budget (`run` then applies the change); None otherwise."""
        self.state = self._open_state()

    # State and report -------------------------------------------------------------------------

    def _open_state(self) -> dict:
        self.earlier_extension = None
        path = self.out / STATE_FILE
        fingerprint = self.study.fingerprint()
        if path.exists():
            try:
                state = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as error:
                raise StudyError([f"{path} is damaged ({error}); use a new --out"]) from None
            if state.get("study") != fingerprint:
                earlier = self._earlier_study(state)
                if earlier is None:
                    raise StudyError([
                        f"{self.out} holds a different study ({path} has another config, and {self.out / STUDY_COPY}, the config it "
                        "ran with, is missing or is not that config, so whether only the grid extension's budget changed cannot be "
                        "told); use another --out"
                    ])
                if earlier.fingerprint(budget=False) != self.study.fingerprint(budget=False):
                    raise StudyError([f"{self.out} holds a different study ({path} has another config); use another --out"])
                self.earlier_extension = earlier.grid_extension
            return state
        if self.out.exists() and any(path.suffix != ".toml" for path in self.out.iterdir()):
            raise StudyError([f"{self.out} holds files but no study ({STATE_FILE} is missing); use a new --out"])
        self.out.mkdir(parents=True, exist_ok=True)
        state = {"study": fingerprint, "stages": {}}
        self._write_state(state)
        return state

    def _earlier_study(self, state: dict) -> StudyConfig | None:
        """The study DIR was run with: its copy DIR/study.toml, when that is the config the state
        file records (None when it is missing, unreadable or not that config)."""
        try:
            earlier = read_study(self.out / STUDY_COPY)
        except (OSError, StudyError):
            return None
        return earlier if earlier.fingerprint() == state.get("study") else None

    def _write_state(self, state: dict) -> None:
        write_json_atomically(self.out / STATE_FILE, state)

    def _apply_extension_budget(self) -> None:
        """The study file changed only the grid extension's budget (max_rounds, max_new_runs). When
        the extension had stopped at the old budget and the new one runs another round, the extension
        resumes and the stages after it run again: their files move to DIR/superseded_<k>/ (nothing is
        deleted). Otherwise no stage changes (an unfinished extension takes the new budget from its
        next round on). Either way the state takes the new config."""
        before, now = self.earlier_extension.budget_text(), self.study.grid_extension.budget_text()
        change = f"grid extension budget: {before} -> {now}"
        stop = self.state.get(STOP_KEY)
        if not self.done("grid_extend"):
            print(f"{change}; the extension has not finished, so its next rounds take the new budget", flush=True)
        elif stop is None or (stop["extension"] or {}).get("status") in (BRACKETED, LIMITS):
            why = f"it had stopped because {stop['reason']}" if stop else "it finished before its stops were recorded"
            print(f"{change}; {why}, so no stage is redone", flush=True)
        else:
            edges, extension, new_stop = self._decide_round(self.state.get(ROUNDS_KEY, []))
            if new_stop is not None:
                self._record_stop(new_stop, edges, extension)
                print(f"{change}; it still stops ({new_stop}), so no stage is redone", flush=True)
            else:
                moved = self._supersede_after_grid()
                print(
                    f"{change}; it had stopped because {stop['reason']}, and the new budget runs another round, so the extension "
                    f"resumes and the stages after it run again" + (f" (their earlier files are kept in {moved})" if moved else ""),
                    flush=True,
                )
        self.state["study"] = self.study.fingerprint()
        self._write_state(self.state)
        self._write_report()
        self.earlier_extension = None

    def _supersede_after_grid(self) -> Path | None:
        """Forget the grid extension's stop and every later stage, and move the files those stages
        wrote into a new DIR/superseded_<k>/ with a copy of the report and of the study file they came
        from (None when there were no such files). The state file records the move before it starts
        (`SUPERSEDING_KEY`), so a kill part-way is finished by the next run (`_finish_superseding`). A
        sweep directory another process still writes is refused (RunDirectoryError) before anything moves."""
        names = [name for name, _ in self.study.stages]
        later = names[names.index("grid_extend") + 1:]
        paths = [output for stage in later for output in STAGE_OUTPUTS[stage] if (self.out / output).exists()]
        with contextlib.ExitStack() as locks:
            for name in paths:
                if (self.out / name / EVALS_FILE).exists():
                    locks.enter_context(RunDirectoryLock(self.out / name))
            target = None
            if paths:
                target = self._new_superseded_directory()
                for name in (REPORT_FILE, STUDY_COPY):
                    if (self.out / name).exists():
                        shutil.copy2(self.out / name, target / name)
            for stage in ("grid_extend", *later):
                self.state["stages"].pop(stage, None)
            for key in (STOP_KEY, HOLDOUT_CHOICE_KEY):
                self.state.pop(key, None)
            self.state[SUPERSEDING_KEY] = {"directory": target.name if target else None, "paths": paths}
            self._write_state(self.state)
            self._finish_superseding()
        return target

    def _new_superseded_directory(self) -> Path:
        """A new, empty DIR/superseded_<k> (k one above the largest there)."""
        numbers = [int(item.name[len(SUPERSEDED_PREFIX):]) for item in self.out.iterdir()
                   if item.name.startswith(SUPERSEDED_PREFIX) and item.name[len(SUPERSEDED_PREFIX):].isdigit()]
        number = max(numbers, default=0) + 1
        while True:
            try:
                (self.out / f"{SUPERSEDED_PREFIX}{number}").mkdir()
                return self.out / f"{SUPERSEDED_PREFIX}{number}"
            except FileExistsError:
                number += 1

    def _finish_superseding(self) -> None:
        """Move the files the state's `SUPERSEDING_KEY` lists (those still in DIR) into its directory,
        then drop the record."""
        record = self.state.get(SUPERSEDING_KEY)
        if record is None:
            return
        for name in record["paths"]:
            if (self.out / name).exists():
                shutil.move(str(self.out / name), str(self.out / record["directory"] / name))
        del self.state[SUPERSEDING_KEY]
        self._write_state(self.state)

    def done(self, name: str) -> bool:
        return bool(self.state["stages"].get(name, {}).get("done"))

    def run(self, until: str | None = None) -> None:
        """Every stage in order (up to and including `until`); each recorded as done (atomically)
        when it finished. One study process at a time: DIR's writer lock is held throughout (a second
        one gets RunDirectoryError naming the first), and the state is read again under it."""
        with RunDirectoryLock(self.out) as lock:
            if lock.taken_over is not None:
                print(f"note: {lock.describe_taken_over()}", flush=True)
            self.state = self._open_state()
            self._finish_superseding()
            if self.earlier_extension is not None:
                self._apply_extension_budget()
            (self.out / STUDY_COPY).write_text(tomli_w.dumps(self._study_table()))
            stages = self.study.stages
            for number, (name, description) in enumerate(stages, start=1):
                if self.done(name):
                    print(f"[{number}/{len(stages)}] {name}: done, skipped", flush=True)
                else:
                    print(f"[{number}/{len(stages)}] {name}: {description}", flush=True)
                    started = time.perf_counter()
                    getattr(self, f"_stage_{name}")()
                    self.state["stages"][name] = {"done": True, "seconds": round(time.perf_counter() - started, 1)}
                    self._write_state(self.state)
                    self._write_report()
                if name == until:
                    break
            self._write_report()

    def _study_table(self) -> dict:
        study = self.study
        table = {"grid": study.grid, "grid_extension": study.grid_extension_table(), "fit": study.fit}
        if study.stage2 is not None:
            table["stage2"] = _without_none(study.stage2.__dict__)
        holdout = _without_none(study.holdout.__dict__)
        if study.sigma_n:
            del holdout["budget_factor"]
        return {**table, "holdout": holdout}

    # Stages -----------------------------------------------------------------------------------

    def _sweep(self, config, directory: Path) -> None:
        from rlscale.run.executors import make_executor
        from rlscale.run.progress import make_progress

        executor = make_executor(self.executor_name, self.address)
        extra = {"progress": make_progress(self.live)} if self.executor_name == "local" else {}
        if self.tracker is not None:
            config = dataclasses.replace(config, tracker=self.tracker)
        executor.run(config, directory, **extra)
        write_learning_curves(load_runs(_rows(directory)), directory)

    def _stage_grid_sweep(self) -> None:
        self._sweep(SweepConfig.from_dict(self.study.grid), self.out / "grid")

    def _grid_directories(self) -> list[Path]:
        """The grid's run directories: the grid sweep and every extension round run so far."""
        return [self.out / "grid", *(self.out / name for name in round_directories(self.state))]

    def _grid_table(self):
        """Every row of the grid and of its extension rounds, as one table."""
        return load_tables([_rows(directory) for directory in self._grid_directories()])

    def _stage_grid_extend(self) -> None:
        """Extension rounds until the grid brackets its optimum or a limit stops it (study.py
        GridExtensionSettings). Each round is recorded in the state file before its sweep starts, so
        a re-run resumes that round's sweep; the round's proposal comes from the rows of the rounds
        before it, which a resumed round does not change."""
        settings = self.study.grid_extension
        rounds = self.state.setdefault(ROUNDS_KEY, [])
        if settings.max_rounds == 0:
            # Nothing can be added: no fit (the grid fit reports the grid's edges).
            self.state[STOP_KEY] = {"reason": "max_rounds = 0: the grid is kept as given", "inside_share": None, "extension": None}
            print("grid extension: none (max_rounds = 0)", flush=True)
            return
        while True:
            pending = rounds[-1] if rounds and not rounds[-1].get("done") else None
            if pending is None:
                edges, extension, stop = self._decide_round(rounds)
                number = len(rounds) + 1
                lines = describe(extension)
                print(f"grid edges: {edges.summary()}", flush=True)
                print("\n".join(lines), flush=True)
                if stop is not None:
                    self._record_stop(stop, edges, extension)
                    print(f"grid extension stops: {stop}", flush=True)
                    return
                name = f"grid_round_{number}"
                values = extension_sweep_values(extension, self.study.grid)
                header = [f"Round {number} of the grid's extension, written by `rlscale study`:", *lines]
                write_sweep_toml(self.out / f"{name}.toml", values, header)
                pending = {
                    "round": number,
                    "directory": name,
                    "inside_share": edges.inside_share,
                    "extension": extension.to_dict(),
                    "runs": len(extension.configs) * self._runs_per_config(),
                    "done": False,
                }
                rounds.append(pending)
                self._write_state(self.state)
            self._sweep(SweepConfig.from_toml(self.out / f"{pending['directory']}.toml"), self.out / pending["directory"])
            pending["done"] = True
            self._write_state(self.state)

    def _record_stop(self, reason: str, edges: GridEdgeReport, extension: GridExtension) -> None:
        """The state's record (`STOP_KEY`) of why the grid's extension stopped, with the edge report's
        inside share and the extension it would have run."""
        self.state[STOP_KEY] = {"reason": reason, "inside_share": edges.inside_share, "extension": extension.to_dict()}

    def _runs_per_config(self) -> int:
        """Runs of each new (σ, B, η) of an extension: every seed and, in a (σ, N) study, every model size."""
        grid = SweepConfig.from_dict(self.study.grid)
        return len(grid.seeds) * len(grid.model_size_list())

    def _decide_round(self, rounds: list[dict]) -> tuple[GridEdgeReport, GridExtension, str | None]:
        """The grid (with the finished `rounds`) fitted, and the next round decided under the study's
        extension settings: (edge report, extension, why the grid stops instead: None when it runs)."""
        settings = self.study.grid_extension
        table = self._grid_table()
        edges = fit_edge_report(fit_laws(table, self.study.fit_options()))
        configs = table[["env", "utd", "batch_size", "learning_rate"]].drop_duplicates()
        runs_added = sum(item["runs"] for item in rounds)
        grid_runs = len(SweepConfig.from_dict(self.study.grid).run_configs())
        extension, stop = settings.next_round(
            propose_extension(edges, configs, settings.limits), len(rounds) + 1, runs_added, grid_runs, self._runs_per_config()
        )
        return edges, extension, stop

    def _stage_grid_fit(self) -> None:
        table = self._grid_table()
        result = fit_laws(table, grid_fit_options(self.study))
        write_fit(result, self.out / "grid_fit")
        write_learning_curves(table, self.out / "grid_fit")
        print(fit_summary(result), flush=True)

    def _stage_propose(self) -> None:
        settings = self.study.stage2
        proposal = propose_stage2(
            load_fit(self.out / "grid_fit"), list(settings.utd), None, settings.baseline_utd, None, settings.env_steps_margin
        )
        base = self.study.stage2_base
        values = stage2_sweep_values(proposal, base, settings.seeds, settings.env_steps, int(base.get("eval_interval", 1000)))
        header = proposal_header(proposal, "grid_fit/fit.json", values["env_steps"])
        write_sweep_toml(self.out / "stage2.toml", values, header)
        write_json_atomically(self.out / f"stage2{PROPOSAL_SUFFIX}", proposal.to_dict())
        print("\n".join(header), flush=True)

    def _stage_stage2_sweep(self) -> None:
        self._sweep(SweepConfig.from_toml(self.out / "stage2.toml"), self.out / "stage2")

    def _stage_stage2_fit(self) -> None:
        options = self.study.fit_options(hparam_laws=load_fit(self.out / "grid_fit"))
        print(fit_summary(fit_run_directory(_rows(self.out / "stage2"), self.out / "stage2_fit", options)), flush=True)

    def _stage_recommend(self) -> None:
        if self.study.sigma_n:
            self._recommend_sigma_n()
            return
        fit = load_fit(self.out / "stage2_fit")
        env = fit.envs[0] if len(fit.envs) == 1 else None
        if self.study.holdout.utd is not None:
            recommendation = recommend_at_utd(fit, self.study.holdout.utd, env=env)
            choice = f"at the chosen σ = {self.study.holdout.utd:g} ([holdout] utd), J = {recommendation.threshold:g}"
        else:
            if fit.budget_law is None:
                raise FitInputError("the stage-2 fit has no budget law (see its notes in stage2_fit/fit.json): no budget to recommend for")
            top = max(fit.budget_law.points, key=lambda point: point.threshold)
            budget = self.study.holdout.budget_factor * top.budget
            recommendation = recommend(fit, budget, env=env, threshold=top.threshold)
            choice = (
                f"for F = {self.study.holdout.budget_factor:g} × F*(J={top.threshold:g}) = {budget:.4g} FLOPs, the optimum of the highest "
                f"threshold ({'held out of' if top.held_out else 'fitted by'} σ*(F))"
            )
        stage2 = SweepConfig.from_toml(self.out / "stage2.toml").to_dict()
        values = holdout_sweep_values(recommendation, stage2, self.study.holdout, int(stage2["eval_interval"]))
        self._check_holdout_env_steps(recommendation, values, stage2["env_steps"], "stage-2 runs'", "stage2_fit")
        header = [
            "The held-out check of the protocol, written by `rlscale study`: the config the stage-2 laws recommend",
            f"{choice}; predicted D_J = {recommendation.data:.0f} "
            f"[{recommendation.data_interval[0]:.0f}, {recommendation.data_interval[1]:.0f}]",
        ]
        write_sweep_toml(self.out / "holdout.toml", values, header)
        write_json_atomically(self.out / "recommendation.json", recommendation.to_dict())
        print(format_recommendation(recommendation), flush=True)

    def _check_holdout_env_steps(self, recommendation, values: dict, trained_steps: int, trained: str, fit_directory: str) -> None:
        """FitInputError when the held-out run would need more than HOLDOUT_ENV_STEPS_LIMIT × the
        trained runs' env steps (unless [holdout] env_steps sets them)."""
        if self.study.holdout.env_steps is None and values["env_steps"] > HOLDOUT_ENV_STEPS_LIMIT * trained_steps:
            raise FitInputError(
                f"the laws predict D = {recommendation.data:.4g} env steps for the recommended config (σ*={recommendation.utd:.3g}), "
                f"over {HOLDOUT_ENV_STEPS_LIMIT}× the {trained} {trained_steps}: the fit does not support this "
                f"extrapolation (see recommendation notes and {fit_directory}/fit.json notes); set [holdout] env_steps to run it anyway"
            )

    def _recommend_sigma_n(self) -> None:
        """The (σ, N) study's held-out model: the width whose critic count is nearest
        model_size_factor × the largest trained N (at the grid's depth and layer norm), and at its
        exact count N the σ, B*, η* and D_J the grid's joint laws recommend at their highest threshold."""
        fit = load_fit(self.out / "grid_fit")
        sigma_n = fit.sigma_n
        if not sigma_n.model_sizes_sigma_n:
            raise FitInputError("the grid fit has no joint (σ, N) laws (see the (σ, N) notes in grid_fit/fit.json): nothing to predict")
        env = fit.envs[0]
        largest = max(sigma_n.model_sizes_sigma_n)
        factor = self.study.holdout.model_size_factor
        grid = SweepConfig.from_dict(self.study.grid)
        options = dict(grid.agent)
        depths = sorted({depth for _, depth in grid.model_size_list()})
        if len(depths) == 1:
            network, depth_source = (depths[0], grid.layer_norm), "the grid's"
        else:
            network, depth_source = infer_network(grid.algo, env, sigma_n.model_sizes_sigma_n, options), "inferred from the trained sizes"
            if network is None:
                raise FitInputError(f"the grid's model sizes have depths {depths} and none explains every trained N: no width for the held-out model")
        width = width_for(grid.algo, env, factor * largest, *network, options)
        recommendation = recommend_at_model_size(fit, float(width.model_size), env=env)
        threshold = recommendation.threshold
        recommendation = dataclasses.replace(
            recommendation,
            hidden_width=width.hidden_width,
            hidden_depth=width.hidden_depth,
            width_model_size=float(width.model_size),
            notes=recommendation.notes + (
                f"hidden width {width.hidden_width} at depth {width.hidden_depth}: the {grid.algo} critic on {env} with the critic count "
                f"nearest {factor:g} × the largest trained N = {factor * largest:.4g}",
            ),
        )
        values = sigma_n_holdout_sweep_values(recommendation, self.study.grid, self.study.holdout, grid.eval_interval)
        self._check_holdout_env_steps(recommendation, values, grid.env_steps, "grid runs'", "grid_fit")
        self.state[HOLDOUT_CHOICE_KEY] = {
            "largest_trained_model_size": largest,
            "model_size_factor": factor,
            "target_model_size": factor * largest,
            "threshold": threshold,
            "depth_source": depth_source,
        }
        header = [
            "The held-out check of the (σ, N) protocol, written by `rlscale study`: a model bigger than any trained,",
            f"hidden width {width.hidden_width} × depth {width.hidden_depth} (critic N = {width.model_size}, {factor:g} × the largest trained "
            f"N = {largest:.4g} rounded to a width), at the σ, B*, η* the grid's joint laws recommend for it at J = {threshold:g};",
            f"predicted D_J(σ, N) = {recommendation.data:.0f} [{recommendation.data_interval[0]:.0f}, {recommendation.data_interval[1]:.0f}]",
        ]
        write_sweep_toml(self.out / "holdout.toml", values, header)
        write_json_atomically(self.out / "recommendation.json", recommendation.to_dict())
        print(format_sigma_n_recommendation(recommendation), flush=True)

    def _stage_holdout_sweep(self) -> None:
        self._sweep(SweepConfig.from_toml(self.out / "holdout.toml"), self.out / "holdout")

    def _stage_validate(self) -> None:
        threshold = json.loads((self.out / "recommendation.json").read_text())["threshold"]
        fit = load_fit(self.out / ("grid_fit" if self.study.sigma_n else "stage2_fit"))
        print(format_validation(validate_run_directory(fit, _rows(self.out / "holdout"), threshold, self.out / "validation")), flush=True)

    # Report -----------------------------------------------------------------------------------

    def _write_report(self) -> None:
        (self.out / REPORT_FILE).write_text(study_report(self.out, self.state, self.study.stages))


def _rows(directory: Path) -> Path:
    """A sweep's one table, `<dir>/evals.jsonl` (the Ray executor also keeps per-group copies below it)."""
    return directory / EVALS_FILE


def _without_none(values: dict) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _figure(path: str, title: str) -> str:
    return f"![{title}]({path})"


def _interval(values, spec: str) -> str:
    return "[" + ", ".join(format(value, spec) if value is not None and math.isfinite(value) else "—" for value in values) + "]"


def study_report(out: Path, state: dict, study_stages=None) -> str:
    """REPORT.md: one short section per finished stage, with its numbers and figures (paths relative
    to `out`). `study_stages`: the study's (name, description) stages (default: the σ-only protocol's)."""
    study_stages = study_stages or STAGES
    if study_stages == SIGMA_N_STAGES:
        return sigma_n_study_report(out, state)
    stages = state["stages"]
    lines = _report_head(out, state, study_stages)
    lines += _grid_sections(state)
    if "grid_fit" in stages:
        fit = load_fit(out / "grid_fit")
        batch, rate = fit.batch_size_law, fit.learning_rate_law
        lines += [
            "", "## Stage 1: hyperparameter laws (grid fit)", "",
            f"Selection threshold J = {fit.selection_threshold:g}; {fit.n_configs} configs, {fit.n_bootstrap} bootstrap resamples.",
            "",
            f"- B\\*(σ) = (β/σ)^α: α = {batch.alpha:.3f} {_interval(batch.alpha_ci, '.3f')}; "
            + ", ".join(f"B\\*(1) = {10 ** value:.1f} ({env})" for env, value in batch.intercept.items()),
            f"- η\\*(σ) = (β/σ)^α: α = {rate.alpha:.3f} {_interval(rate.alpha_ci, '.3f')}; "
            + ", ".join(f"η\\*(1) = {10 ** value:.3g} ({env})" for env, value in rate.intercept.items()),
        ]
        if fit.grid_edges is not None:
            lines.append(f"- Grid edges: {fit.grid_edges.summary()}.")
        ties = tie_summary(fit.vote_ties, fit.tied_votes)
        if ties is not None:
            lines.append(f"- {ties.replace('*', chr(92) + '*')}.")
        if fit.horizon is not None:
            lines += [f"- {line.replace('*', chr(92) + '*')}" for line in fit.horizon.summary()]
        lines += ["", _figure("grid_fit/best_hparams.png", "best hyperparameters"), _figure("grid_fit/learning_curves.png", "whole grid")]
    if "propose" in stages:
        proposal = json.loads((out / "stage2.proposal.json").read_text())
        lines += ["", "## Stage 2: proposed runs (`stage2.toml`)", "", "| σ | role | B | η | env steps needed |", "|---|---|---|---|---|"]
        lines += [
            f"| {item['utd']:g} | {item['role']} | {item['batch_size']} | {item['learning_rate']:.4g} | {item['env_steps_needed']:.0f} |"
            for item in proposal["configs"]
        ]
    if "stage2_sweep" in stages:
        lines += ["", "## Stage 2: runs at the fitted hyperparameters", "", _figure("stage2/learning_curves.png", "stage-2 learning curves")]
    if "stage2_fit" in stages:
        lines += _stage2_fit_section(load_fit(out / "stage2_fit"))
    if "recommend" in stages:
        item = json.loads((out / "recommendation.json").read_text())
        lines += [
            "", "## Stage 4: recommendation for a larger budget (`holdout.toml`)", "",
            f"F = {item['budget']:.4g} FLOPs: σ\\* = {item['utd']:.3g} {_interval(item['utd_interval'], '.3g')}, "
            f"B\\* = {item['batch_size']}, η\\* = {item['learning_rate']:.3g}; J = {item['threshold']:g} "
            f"({item['threshold_source']}); predicted D = {item['data']:.0f} {_interval(item['data_interval'], '.0f')} env steps, "
            f"C = {item['compute']:.3g} FLOPs.",
        ]
        lines += [f"- {note}" for note in item["notes"]]
    if "holdout_sweep" in stages:
        lines += ["", "## Stage 4: the recommended config, trained", "", _figure("holdout/learning_curves.png", "held-out learning curves")]
    if "validate" in stages:
        lines += _validation_section(json.loads((out / "validation" / "validation.json").read_text()))
    return "\n".join(lines) + "\n"


def _report_head(out: Path, state: dict, study_stages) -> list[str]:
    """The report's title and its table of stages: each stage's seconds in the run that finished it,
    and each sweep stage's training time over every sitting (`_training_seconds`)."""
    stages = state["stages"]
    sweeps = {**STAGE_SWEEPS, "grid_extend": round_directories(state)}
    lines = ["# Study report", "", f"Study directory `{out}`; stages done: {sum(1 for name, _ in study_stages if name in stages)}/{len(study_stages)}.", ""]
    lines += ["| stage | what | seconds | training seconds, all sittings |", "|---|---|---|---|"]
    for name, description in study_stages:
        seconds = stages[name]["seconds"] if name in stages else "not yet"
        training = _training_seconds(out, sweeps[name]) if name in stages and name in sweeps else None
        lines.append(f"| {name} | {description} | {seconds} | {'' if training is None else format(training, '.0f')} |")
    return lines + [
        "", "(seconds: the stage's time in the run that finished it, which skips what earlier sittings did; training seconds: "
        "each of its sweeps from its start to its last row, resumes included, summed)",
    ]


def round_directories(state: dict) -> tuple[str, ...]:
    """The run directories (names in DIR) of the grid's extension rounds recorded in the study's state."""
    return tuple(item["directory"] for item in state.get(ROUNDS_KEY, []) if item.get("directory"))


def _training_seconds(out: Path, directories: tuple[str, ...]) -> float | None:
    """The largest `wall_time_s` of each sweep's rows (seconds since that sweep started, carried across
    resumes by its checkpoints), summed over `directories` of `out`; None when none has such rows
    (rows written by something else than a sweep may not carry the clock)."""
    rows = [read_evals(out / name) for name in directories if (out / name / EVALS_FILE).exists()]
    ends = [float(table["wall_time_s"].max()) for table in rows if len(table) and "wall_time_s" in table]
    return sum(ends) if ends else None


def _grid_sections(state: dict) -> list[str]:
    """Stage 1: the grid sweep's learning curves and the grid's extension rounds."""
    lines = []
    if "grid_sweep" in state["stages"]:
        lines += ["", "## Stage 1: grid sweep", "", _figure("grid/learning_curves.png", "grid learning curves")]
    if state.get(ROUNDS_KEY) or state.get(STOP_KEY):
        lines += _extension_section(state)
    return lines


def sigma_n_study_report(out: Path, state: dict) -> str:
    """REPORT.md of a (σ, N) study: the grid, the joint laws fitted on it, the recommendation for a
    model bigger than any trained (and how it was chosen), that run and its check against D_J(σ, N)."""
    stages = state["stages"]
    lines = _report_head(out, state, SIGMA_N_STAGES)
    lines += [
        "",
        "The grid has several model sizes, so the study follows the (σ, N) protocol (rlscale/study.py): no stage 2 — the "
        "joint laws are fitted on the grid, each D_J(σ, N) point from the config nearest B\\*(σ, N), η\\*(σ, N) — and the "
        "held-out run is a model bigger than any trained, at the σ, B\\*, η\\* the joint laws recommend for it.",
    ]
    lines += _grid_sections(state)
    if "grid_fit" in stages:
        lines += _sigma_n_fit_section(load_fit(out / "grid_fit"))
    if "recommend" in stages:
        lines += _sigma_n_recommendation_section(json.loads((out / "recommendation.json").read_text()), state.get(HOLDOUT_CHOICE_KEY, {}))
    if "holdout_sweep" in stages:
        lines += ["", "## Stage 3: the recommended model, trained", "", _figure("holdout/learning_curves.png", "held-out learning curves")]
    if "validate" in stages:
        lines += _validation_section(json.loads((out / "validation" / "validation.json").read_text()))
    return "\n".join(lines) + "\n"


def _sigma_n_fit_section(fit) -> list[str]:
    """The joint laws of the grid fit: D_J(σ, N) per threshold, B*(σ, N), η*(σ, N), the paths."""
    sigma_n = fit.sigma_n
    lines = ["", "## Stage 2: the joint (σ, N) laws (grid fit)", ""]
    lines.append(
        f"N = critic parameters {', '.join(f'{size:.0f}' for size in sigma_n.model_sizes_sigma_n)}; selection threshold "
        f"J = {sigma_n.selection_threshold_sigma_n:g}; D_J points: {sigma_n.data_points_sigma_n}; {fit.n_bootstrap} bootstrap resamples."
    )
    lines += ["", "D_J(σ, N) = c·(1 + (a/σ)^α + (b/N)^β):", ""]
    lines += ["| J | scope | c | a | α (interval) | b | β (interval) | RMS log residual |", "|---|---|---|---|---|---|---|---|"]
    for law in sigma_n.data_law_sigma_n:
        lines.append(
            f"| {law.threshold:g} | {law.scope} | {law.c:.4g} | {law.a:.3g} | {law.alpha:.2f} {_interval(law.alpha_ci, '.2f')} | "
            f"{law.b:.4g} | {law.beta:.2f} {_interval(law.beta_ci, '.2f')} | {law.rms_log_residual:.3f} |"
        )
    lines.append("")
    for law in sigma_n.batch_size_law_sigma_n.laws if sigma_n.batch_size_law_sigma_n is not None else ():
        lines.append(
            f"- B\\*(σ, N) = a / (σ^α (1 + (b/N)^c)) ({law.env}): a = {law.a:.3g}, α = {law.alpha:.3f} {_interval(law.alpha_ci, '.3f')}, "
            f"b = {law.b:.4g}, c = {law.c:.3g}."
        )
    rate = sigma_n.learning_rate_law_sigma_n
    if rate is not None:
        lines.append(
            f"- η\\*(σ, N): σ exponent {rate.alpha:.3f} {_interval(rate.alpha_ci, '.3f')}, N exponent {rate.n_exponent:.3f} "
            f"{_interval(rate.n_exponent_ci, '.3f')}; N {'matters' if rate.n_matters else 'does not matter'} "
            f"({'the (σ, N) law is used' if rate.n_matters else 'the σ-only law is used'})."
        )
    for allocation in sigma_n.allocation_sigma_n:
        if allocation.utd_path is None or allocation.model_size_path is None:
            continue
        paths = f"{allocation.model_size_path.describe('N*', 3)}, {allocation.utd_path.describe('σ*', 3)}".replace("*", "\\*")
        lines.append(
            f"- Compute-optimal paths ({allocation.scope}, δ = {allocation.delta:.3g} FLOPs per env step): {paths}; "
            f"at F = {allocation.overhead_budget:.3g} scaling σ only needs {_percent(allocation.utd_only_data_overhead)} data, "
            f"N only {_percent(allocation.model_size_only_data_overhead)} (— where that strategy never reaches the budget)."
        )
    edges = fit_edge_report(fit)
    if edges is not None and edges.cells:
        lines.append(f"- Grid edges (every size's (σ, J) cells): {edges.summary()}; where the fastest value sits on an edge it is a bound.")
    lines += [f"- {note}" for note in fit.notes if note.startswith("(σ, N)")]
    lines += ["", _figure("grid_fit/sigma_n_data_law.png", "D_J(σ, N) iso-lines"), _figure("grid_fit/sigma_n_batch_size.png", "B*(σ, N)"),
              _figure("grid_fit/sigma_n_allocation.png", "compute-optimal allocation"), _figure("grid_fit/learning_curves.png", "whole grid")]
    return lines


def _percent(value: float) -> str:
    return f"{value:+.1%}" if math.isfinite(value) else "—"


def _sigma_n_recommendation_section(item: dict, choice: dict) -> list[str]:
    """The (σ, N) held-out model: how it was chosen, its width, σ, B*, η*, predicted D, its budget."""
    lines = ["", "## Stage 3: a model bigger than any trained (`holdout.toml`)", ""]
    if choice:
        lines.append(
            f"N: the width whose critic count is nearest {choice['model_size_factor']:g} × the largest trained N "
            f"({choice['largest_trained_model_size']:.0f}) = {choice['target_model_size']:.0f} (depth: {choice['depth_source']}); "
            f"σ, B\\*, η\\* and D read from the joint laws at their highest threshold, J = {choice['threshold']:g}. The model is chosen by "
            "its size, not by extrapolating the compute-optimal path N\\*(F) beyond the fitted budgets (see its note below)."
        )
    lines += [
        "",
        f"Hidden width {item['hidden_width']} × depth {item['hidden_depth']}: N = {item['model_size']:.0f} critic parameters; "
        f"σ = {item['utd']:.3g} {_interval(item['utd_interval'], '.3g')}, B\\* = {item['batch_size']} "
        f"{_interval(item['batch_size_interval'], '.1f')}, η\\* = {item['learning_rate']:.3g} {_interval(item['learning_rate_interval'], '.3g')}; "
        f"predicted D_J = {item['data']:.0f} {_interval(item['data_interval'], '.0f')} env steps; it spends C = {item['compute']:.3g} FLOPs, "
        f"F = C + δ·D = {item['budget']:.3g} FLOPs (δ = {item['delta']:.3g}).",
    ]
    lines += [f"- extrapolated: {quantity}" for quantity in item["extrapolated_quantities"]]
    lines += [f"- {note}" for note in item["notes"]]
    return lines


def _extension_section(state: dict) -> list[str]:
    """The grid's extension rounds: what each added and why, and why the extension stopped."""
    lines = ["", "## Stage 1: the grid extends itself", ""]
    rounds = state.get(ROUNDS_KEY, [])
    if rounds:
        lines += ["| round | cells inside before | values added | new configs | runs |", "|---|---|---|---|---|"]
    for item in rounds:
        extension = GridExtension.from_dict(item["extension"])
        lines.append(
            f"| {item['round']} | {item['inside_share']:.0%} | {compact(extension)} | {len(extension.configs)} "
            f"| {item['runs']}{'' if item.get('done') else ' (running)'} |"
        )
    stop = state.get(STOP_KEY)
    if stop is not None and stop["extension"] is None:
        lines += ["", f"Not extended: {stop['reason']}."]
    elif stop is not None:
        share = stop["inside_share"]
        lines += ["", f"Stopped: {stop['reason']} (fastest (B, η) inside the grid in {share:.0%} of the (σ, J) cells)."]
        lines += [f"- {line}" for line in describe_unmade(GridExtension.from_dict(stop["extension"]))]
    return lines


def _stage2_fit_section(fit) -> list[str]:
    lines = ["", "## Stage 3: data, compute and budget laws (stage-2 fit, B\\*, η\\* from the grid)", ""]
    lines += ["| J | scope | D_min | β | α (interval) | baseline α |", "|---|---|---|---|---|---|"]
    for law in fit.data_law:
        baseline = fit.baseline_data_law_for(law.threshold, law.scope)
        lines.append(
            f"| {law.threshold:g} | {law.scope} | {law.d_min:.0f} | {law.beta:.3g} | {law.alpha:.2f} {_interval(law.alpha_ci, '.2f')} "
            f"| {f'{baseline.alpha:.2f}' if baseline else '—'} |"
        )
    if fit.budget_law is not None:
        lines += ["", budget_summary(fit.budget_law).replace("*", "\\*") + "."]
    lines += [f"- {note}" for note in fit.notes]
    lines += ["", _figure("stage2_fit/data_efficiency.png", "data efficiency"), _figure("stage2_fit/pareto_frontier.png", "frontier"),
              _figure("stage2_fit/budget.png", "budget law")]
    return lines


def _validation_section(validation: dict) -> list[str]:
    lines = ["", f"## {'Stage 3' if _joint(validation) else 'Stage 4'}: held-out check at J = {validation['threshold']:g}", ""]
    lines += ["| config | predicted D_J | measured D_J | error | within |", "|---|---|---|---|---|"]
    for item in validation["configs"]:
        measured = "never" if item["measured"] is None else f"{item['measured']:.0f}"
        error = "—" if item["relative_error"] is None else f"{item['relative_error']:+.1%}"
        size = "" if item.get("model_size") is None else f", N={item['model_size']:.0f}"
        lines.append(
            f"| σ={item['utd']:.3g}{size}, B={item['batch_size']}, η={item['learning_rate']:.3g} ({item['seeds']} seeds) "
            f"| {item['predicted']:.0f} {_interval(item['predicted_interval'], '.0f')} ({item.get('data_law', 'D_J(σ)')}) "
            f"| {measured} {_interval(item['measured_interval'], '.0f')} | {error} | {'yes' if item['measured_within_predicted'] else 'no'} |"
        )
    lines += [f"- {note}" for note in validation["notes"]]
    return lines + ["", _figure("validation/validation.png", "held-out check")]


def _joint(validation: dict) -> bool:
    """Whether a validation.json was predicted by the joint (σ, N) law."""
    return any(item.get("model_size") is not None for item in validation["configs"])
