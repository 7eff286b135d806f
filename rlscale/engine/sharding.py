"""The config axis of a group sharded across the local devices of one host.

`ShardedTrainer` wraps a `GroupTrainer` and re-jits its init / train_chunk / evaluate with a
`jax.sharding.Mesh` over `jax.local_devices()` (one mesh axis, "configs") and a
`NamedSharding(mesh, P("configs"))` on the leading K axis of every GroupState and HyperParams leaf.
Each device holds and trains K / D of the configs; XLA (GSPMD) partitions the program, and the few
group-wide decisions (`jnp.any(active)` before an update slot, `jnp.any(done)` before a reset)
become cross-device reductions.

K need not be divisible by the device count D: the group is padded to K_pad = ceil(K / D) * D
configs by repeating its last config. Padded configs train like the one they copy (configs never
interact, so the real configs' results do not change) and every per-config output the host reads
(`ChunkStats.grad_steps`, `evaluate`, `td_errors`) is cut back to the K real configs. The state keeps K_pad rows
(it is what gets checkpointed); its first K rows are the real configs. The padding wastes at most
(D - 1) / K_pad of the group's work; plan groups as multiples of D to waste none.

Results match the single-device program to floating-point reassociation: XLA compiles a program for
K / D configs per device, whose fused kernels may round differently in the last bits (as a group of
K and a group of 1 do), so equality is tested to a norm-wise relative 1e-5 on the parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from rlscale.agents.core import HyperParams
from rlscale.engine.loop import ChunkStats, GroupState, GroupTrainer, TDErrors, get_trainer
from rlscale.engine.spec import MAP, GroupSpec

CONFIG_AXIS = "configs"


def config_mesh(devices=None) -> Mesh:
    """A one-axis ("configs") mesh over `devices` (default: every local device)."""
    devices = list(jax.local_devices() if devices is None else devices)
    return Mesh(np.asarray(devices), (CONFIG_AXIS,))


def padded_num_configs(num_configs: int, num_devices: int) -> int:
    """K_pad: the smallest multiple of `num_devices` that is >= `num_configs`."""
    return math.ceil(num_configs / num_devices) * num_devices


def pad_configs(hparams: HyperParams, num_configs: int) -> HyperParams:
    """Hyperparameters of K configs extended to `num_configs` by repeating the last config."""
    k = hparams.seed.shape[0]
    if num_configs < k:
        raise ValueError(f"cannot pad {k} configs to fewer ({num_configs})")
    return jax.tree_util.tree_map(
        lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], num_configs - k, axis=0)]), hparams
    )


class ShardedTrainer:
    """A GroupTrainer whose K configs (padded to K_pad) are split across the devices of `mesh`.

    Same interface as GroupTrainer: `init(hparams[K]) -> GroupState[K_pad]`,
    `train_chunk(state, num_iterations) -> (state, ChunkStats with grad_steps i32[K])`,
    `evaluate(state, eval_index) -> f32[K]`, `td_errors(state, eval_index) -> TDErrors of [K]` (None
    when the agent has no `td_error`), `mark_diverged(state, diverged bool[K]) -> state`.
    """

    def __init__(self, trainer: GroupTrainer, mesh: Mesh):
        self.spec = trainer.spec
        self.trainer = trainer
        self.mesh = mesh
        self.num_devices = mesh.devices.size
        self.num_configs = trainer.spec.num_configs
        self.padded_num_configs = padded_num_configs(self.num_configs, self.num_devices)
        configs = NamedSharding(mesh, PartitionSpec(CONFIG_AXIS))
        replicated = NamedSharding(mesh, PartitionSpec())
        # A sharding given for a pytree applies to each of its leaves: every GroupState leaf has
        # the leading config axis.
        self.config_sharding = configs
        self._init = jax.jit(trainer.init_fn, in_shardings=configs, out_shardings=configs)
        self._train_chunk = jax.jit(
            trainer.train_chunk_fn,
            donate_argnums=0,
            in_shardings=(configs, replicated),
            out_shardings=(configs, ChunkStats(grad_steps=configs, computed_updates=configs)),
        )
        self._evaluate = jax.jit(
            trainer.evaluate_fn, in_shardings=(configs, replicated), out_shardings=configs
        )
        self._td_errors = jax.jit(
            trainer.td_errors_fn, in_shardings=(configs, replicated), out_shardings=configs
        )
        self.td_errors = self._real_td_errors if trainer.measures_td_error else None
        self._mark_diverged = jax.jit(
            trainer.mark_diverged_fn, in_shardings=(configs, configs), out_shardings=configs,
            donate_argnums=0,
        )

    def init(self, hparams: HyperParams) -> GroupState:
        """GroupState[K_pad] for the K configs of `hparams`, sharded along the config axis."""
        return self._init(pad_configs(hparams, self.padded_num_configs))

    def train_chunk(self, state: GroupState, num_iterations: int) -> tuple[GroupState, ChunkStats]:
        state, stats = self._train_chunk(state, num_iterations)
        real = slice(self.num_configs)
        return state, stats.replace(grad_steps=stats.grad_steps[real], computed_updates=stats.computed_updates[real])

    def evaluate(self, state: GroupState, eval_index) -> jax.Array:
        return self._evaluate(state, jnp.asarray(eval_index, jnp.int32))[: self.num_configs]

    def _real_td_errors(self, state: GroupState, eval_index) -> TDErrors:
        errors = self._td_errors(state, jnp.asarray(eval_index, jnp.int32))
        return jax.tree_util.tree_map(lambda values: values[: self.num_configs], errors)

    def mark_diverged(self, state: GroupState, diverged) -> GroupState:
        """GroupTrainer.mark_diverged for the K real configs (padded configs are never marked)."""
        padded = np.zeros(self.padded_num_configs, bool)
        padded[: self.num_configs] = np.asarray(diverged, bool)
        return self._mark_diverged(state, jnp.asarray(padded))


@functools.lru_cache(maxsize=32)
def _sharded_trainer(spec: GroupSpec, devices: tuple) -> ShardedTrainer:
    padded = padded_num_configs(spec.num_configs, len(devices))
    if spec.config_axis == MAP and padded != spec.num_configs:
        # The padding repeats the last config, adding padded - K configs to its (σ, B): lanes of
        # gcd(lane_width, padded - K) still never mix σ or B (one lane of all configs if the group
        # is one σ and B).
        single_lane = spec.lane_width == spec.num_configs
        lane_width = padded if single_lane else math.gcd(spec.lane_width, padded - spec.num_configs)
        spec = dataclasses.replace(spec, lane_width=lane_width)
    return ShardedTrainer(get_trainer(spec), config_mesh(devices))


def get_group_trainer(spec: GroupSpec, devices=None) -> GroupTrainer | ShardedTrainer:
    """The trainer a group runs with: its configs sharded across `devices` (default: all local
    devices) when there are several, the plain single-device GroupTrainer otherwise. Cached per
    (spec, devices) so equal specs share compiled functions."""
    devices = tuple(jax.local_devices() if devices is None else devices)
    if len(devices) == 1:
        return get_trainer(spec)
    return _sharded_trainer(spec, devices)
