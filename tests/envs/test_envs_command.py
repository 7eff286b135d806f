"""`rlscale envs`: lists every env; --measure reports compile time and steps/s."""

from rlscale.cli import main
from rlscale.envs import env_names


def _run(argv):
    return main(argv)


def test_lists_every_registered_env(capsys):
    assert _run(["envs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "suite", "obs", "act"]
    assert [line.split()[0] for line in lines[1:]] == env_names()


def test_measure_reports_compile_time_and_steps_per_second(capsys):
    assert _run(["envs", "--measure", "--env", "pendulum", "--num-envs", "4", "--num-steps", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("device: ")
    assert out[1].split()[-3:] == ["num_envs", "compile_s", "steps/s"]
    cells = out[2].split()
    assert cells[0] == "pendulum" and cells[-3] == "4" and float(cells[-2]) > 0 and float(cells[-1]) > 0


def test_unknown_env_is_reported(capsys):
    assert _run(["envs", "--env", "nope"]) == 2
    assert "unknown env name(s) nope" in capsys.readouterr().err
