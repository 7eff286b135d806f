"""Names in a study's run directory that modules below the study runner read too (`rlscale snapshot`
tells a study directory and its superseded sweeps by them); the layout is run/study_runner.py's."""

STATE_FILE = "study_state.json"
"""DIR/study_state.json: the finished stages (replaced atomically after each)."""
SUPERSEDED_PREFIX = "superseded_"
"""DIR/superseded_<k>/: the outputs of the stages after the grid that a raised extension budget redoes."""
