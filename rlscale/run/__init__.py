"""The host runtime, below the commands (`rlscale.commands`): the runner, rows and their store,
checkpoints, locks and signals, executors (local, Ray), progress and trackers, reading tables, the
study runner, and the files of the fit layer. With the commands, the only code that touches files
and clocks; nothing here imports a command."""
