"""Tiny pure-JAX environments for fast tests and the default demo.

Every env here is unbatched, pure and jittable: `reset(rng) -> State`, `step(state, action) ->
State`, with `action` in [-1, 1]^action_size. The State has the fields of Brax's
`brax.envs.base.State` that the engine reads (obs, reward, done, info), so the engine sees one
state shape across suites, without this module importing Brax or MuJoCo (these envs also run where
neither is installed); `pipeline_state` holds the physical state vector and `done` is 1.0 only on a
true termination (never on the time limit, which the engine applies).
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class State:
    """The state of one pure-JAX env: physical state f32[p], obs f32[observation_size], reward and
    done f32 scalars, and an (empty) info dict."""

    pipeline_state: jax.Array
    obs: jax.Array
    reward: jax.Array
    done: jax.Array
    info: dict = flax.struct.field(default_factory=dict)


def _angle_normalize(theta: jax.Array) -> jax.Array:
    """Wraps angles to [-pi, pi). Shape-preserving."""
    return (theta + jnp.pi) % (2 * jnp.pi) - jnp.pi


class Pendulum:
    """Swing-up pendulum with Gym Pendulum-v1 dynamics; no termination.

    Physical state: f32[2] = [theta, theta_dot]; theta = 0 is upright.
    Observation: f32[3] = [cos theta, sin theta, theta_dot].
    Action: f32[1] in [-1, 1], scaled to a torque in [-max_torque, max_torque].
    Reward: -(theta_norm^2 + 0.1 theta_dot^2 + 0.001 torque^2), in [-16.27, 0].
    """

    observation_size = 3
    action_size = 1
    max_speed = 8.0
    max_torque = 2.0
    dt = 0.05
    gravity = 10.0
    mass = 1.0
    length = 1.0

    def reset(self, rng: jax.Array) -> State:
        """Samples theta ~ U[-pi, pi], theta_dot ~ U[-1, 1] as in Gym."""
        high = jnp.array([jnp.pi, 1.0], dtype=jnp.float32)
        physical = jax.random.uniform(rng, (2,), jnp.float32, -high, high)
        zero = jnp.zeros((), jnp.float32)
        return State(pipeline_state=physical, obs=self._observe(physical), reward=zero, done=zero)

    def step(self, state: State, action: jax.Array) -> State:
        """One Euler step of dt seconds under torque max_torque * clip(action, -1, 1)."""
        theta, theta_dot = state.pipeline_state[0], state.pipeline_state[1]
        torque = self.max_torque * jnp.clip(action[0], -1.0, 1.0)
        cost = _angle_normalize(theta) ** 2 + 0.1 * theta_dot**2 + 0.001 * torque**2
        angular_acceleration = (
            3.0 * self.gravity / (2.0 * self.length) * jnp.sin(theta)
            + 3.0 / (self.mass * self.length**2) * torque
        )
        new_theta_dot = jnp.clip(theta_dot + angular_acceleration * self.dt, -self.max_speed, self.max_speed)
        new_theta = theta + new_theta_dot * self.dt
        physical = jnp.stack([new_theta, new_theta_dot]).astype(jnp.float32)
        return state.replace(
            pipeline_state=physical,
            obs=self._observe(physical),
            reward=(-cost).astype(jnp.float32),
            done=jnp.zeros((), jnp.float32),
        )

    @staticmethod
    def _observe(physical: jax.Array) -> jax.Array:
        """f32[2] [theta, theta_dot] -> f32[3] [cos theta, sin theta, theta_dot]."""
        theta, theta_dot = physical[0], physical[1]
        return jnp.stack([jnp.cos(theta), jnp.sin(theta), theta_dot]).astype(jnp.float32)


class CartpoleBalance:
    """Continuous-action cart-pole balance with Gym CartPole-v1 dynamics; terminates on failure.

    Physical state: f32[4] = [x, x_dot, theta, theta_dot]; theta = 0 is upright.
    Observation: the physical state, f32[4].
    Action: f32[1] in [-1, 1], scaled to a horizontal force in [-force_magnitude, force_magnitude].
    Reward: 1 per step, including the step that terminates (as in Gym).
    Termination (done = 1): |x| > 2.4 or |theta| > 12 degrees after the step.
    """

    observation_size = 4
    action_size = 1
    gravity = 9.8
    cart_mass = 1.0
    pole_mass = 0.1
    pole_half_length = 0.5
    force_magnitude = 10.0
    dt = 0.02
    x_limit = 2.4
    theta_limit = 12.0 * 2.0 * jnp.pi / 360.0

    def reset(self, rng: jax.Array) -> State:
        """Samples every state component ~ U[-0.05, 0.05] as in Gym."""
        physical = jax.random.uniform(rng, (4,), jnp.float32, -0.05, 0.05)
        zero = jnp.zeros((), jnp.float32)
        return State(pipeline_state=physical, obs=physical, reward=zero, done=zero)

    def step(self, state: State, action: jax.Array) -> State:
        """One explicit-Euler step of dt seconds (Gym's 'euler' integrator)."""
        x, x_dot, theta, theta_dot = (state.pipeline_state[i] for i in range(4))
        force = self.force_magnitude * jnp.clip(action[0], -1.0, 1.0)
        total_mass = self.cart_mass + self.pole_mass
        pole_mass_length = self.pole_mass * self.pole_half_length
        cos_theta, sin_theta = jnp.cos(theta), jnp.sin(theta)
        temp = (force + pole_mass_length * theta_dot**2 * sin_theta) / total_mass
        theta_acc = (self.gravity * sin_theta - cos_theta * temp) / (
            self.pole_half_length * (4.0 / 3.0 - self.pole_mass * cos_theta**2 / total_mass)
        )
        x_acc = temp - pole_mass_length * theta_acc * cos_theta / total_mass
        physical = jnp.stack(
            [
                x + self.dt * x_dot,
                x_dot + self.dt * x_acc,
                theta + self.dt * theta_dot,
                theta_dot + self.dt * theta_acc,
            ]
        ).astype(jnp.float32)
        failed = (jnp.abs(physical[0]) > self.x_limit) | (jnp.abs(physical[2]) > self.theta_limit)
        return state.replace(
            pipeline_state=physical,
            obs=physical,
            reward=jnp.ones((), jnp.float32),
            done=failed.astype(jnp.float32),
        )


class PointMass:
    """A 2-D point mass pushed towards a random goal; no termination.

    Physical state: f32[6] = [position (2), velocity (2), goal (2)], positions in [-1, 1]^2.
    Observation: f32[6] = [position, velocity, goal - position].
    Action: f32[2] in [-1, 1], a force; velocity is damped and positions are clipped to the arena.
    Reward: -||goal - position||_2 per step, in [-2 sqrt 2, 0].
    """

    observation_size = 6
    action_size = 2
    dt = 0.05
    damping = 0.5

    def reset(self, rng: jax.Array) -> State:
        """Position and goal ~ U[-1, 1]^2 independently, velocity 0."""
        position_rng, goal_rng = jax.random.split(rng)
        position = jax.random.uniform(position_rng, (2,), jnp.float32, -1.0, 1.0)
        goal = jax.random.uniform(goal_rng, (2,), jnp.float32, -1.0, 1.0)
        physical = jnp.concatenate([position, jnp.zeros((2,), jnp.float32), goal])
        zero = jnp.zeros((), jnp.float32)
        return State(pipeline_state=physical, obs=self._observe(physical), reward=zero, done=zero)

    def step(self, state: State, action: jax.Array) -> State:
        """Semi-implicit Euler step of dt seconds under force clip(action, -1, 1)."""
        position, velocity, goal = (state.pipeline_state[i : i + 2] for i in (0, 2, 4))
        force = jnp.clip(action, -1.0, 1.0)
        velocity = (1.0 - self.damping * self.dt) * velocity + self.dt * force
        position = jnp.clip(position + self.dt * velocity, -1.0, 1.0)
        physical = jnp.concatenate([position, velocity, goal]).astype(jnp.float32)
        distance = jnp.linalg.norm(goal - position)
        return state.replace(
            pipeline_state=physical,
            obs=self._observe(physical),
            reward=(-distance).astype(jnp.float32),
            done=jnp.zeros((), jnp.float32),
        )

    @staticmethod
    def _observe(physical: jax.Array) -> jax.Array:
        """f32[6] [position, velocity, goal] -> f32[6] [position, velocity, goal - position]."""
        return jnp.concatenate([physical[0:4], physical[4:6] - physical[0:2]]).astype(jnp.float32)
