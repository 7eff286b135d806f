"""NumPy forward passes of the agents' Flax networks, and shared set-ups for the agent tests."""

import jax
import numpy as np

from rlscale.agents.core import HyperParams

LAYER_NORM_EPSILON = 1e-6  # flax.linen.LayerNorm's default


def dense(params, x):
    bias = np.asarray(params["bias"], np.float64) if "bias" in params else 0.0
    return x @ np.asarray(params["kernel"], np.float64) + bias


def layer_norm(params, x):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    normalized = (x - mean) / np.sqrt(variance + LAYER_NORM_EPSILON)
    return normalized * np.asarray(params["scale"], np.float64) + np.asarray(params["bias"], np.float64)


def relu(x):
    return np.maximum(x, 0.0)


def bronet_torso(params, x, num_blocks):
    """BRO's Torso with a BroNet: params has BroNet_0."""
    torso = params["BroNet_0"]
    x = relu(layer_norm(torso["LayerNorm_0"], dense(torso["Dense_0"], x)))
    for block in range(num_blocks):
        first, second = 1 + 2 * block, 2 + 2 * block
        residual = relu(layer_norm(torso[f"LayerNorm_{first}"], dense(torso[f"Dense_{first}"], x)))
        residual = layer_norm(torso[f"LayerNorm_{second}"], dense(torso[f"Dense_{second}"], residual))
        x = x + residual
    return x


def plain_mlp(params, x, depth):
    """SAC's MLP without layer norm: Dense_0..Dense_{depth-1} with ReLU, then Dense_{depth}."""
    for layer in range(depth):
        x = relu(dense(params[f"Dense_{layer}"], x))
    return dense(params[f"Dense_{depth}"], x)


def tanh_gaussian(mean, log_std, noise):
    """NumPy twin of sample_tanh_gaussian given the standard normal noise."""
    pre_tanh = mean + np.exp(log_std) * noise
    gaussian = -0.5 * noise**2 - log_std - 0.5 * np.log(2 * np.pi)
    log_det = np.log(1.0 - np.tanh(pre_tanh) ** 2)
    return np.tanh(pre_tanh), np.sum(gaussian - log_det, axis=-1)


def squash(raw, low, high):
    return low + 0.5 * (high - low) * (np.tanh(raw) + 1.0)


def to_numpy(tree):
    return jax.tree_util.tree_map(lambda x: np.asarray(x, np.float64), tree)


def perturb(tree, seed, scale=0.3):
    """Adds Gaussian noise to every leaf (so zero-initialised layers become non-trivial)."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    noisy = [x + scale * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)]
    return jax.tree_util.tree_unflatten(treedef, noisy)


def scalar_hparams(learning_rate=3e-4, batch_size=48, discount=0.99, tau=0.005) -> HyperParams:
    return HyperParams.single(learning_rate, batch_size, discount, tau)
