"""Unit quaternions as ``(..., 4)`` float arrays, scalar first ``(w, x, y, z)``; vectorised numpy only.

A quaternion ``q`` maps sensor-frame vectors to the world frame: ``v_world = q * v_sensor * conj(q)``.
"""

from __future__ import annotations

import numpy as np

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def quat_mul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Return the Hamilton product ``p * q`` (broadcast over leading axes)."""
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    return np.stack(
        (
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ),
        axis=-1,
    )


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Return the conjugate (the inverse of a unit quaternion)."""
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate the vectors ``v`` (``(..., 3)``) by the unit quaternions ``q``."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def quat_from_rotvec(rotvec: np.ndarray) -> np.ndarray:
    """Return the quaternions of rotation vectors (axis times angle in rad), exact for any angle."""
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(a/2)/a, with its Taylor series where the angle is tiny
    small = angle < 1e-8
    scale = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate((np.cos(half), rotvec * scale), axis=-1)


def quat_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the shortest rotations taking unit vectors ``a`` onto unit vectors ``b``.

    Where ``a`` and ``b`` are opposite the rotation is by pi about an axis orthogonal to ``a``.
    """
    a, b = np.broadcast_arrays(a, b)
    w = 1.0 + np.sum(a * b, axis=-1, keepdims=True)
    q = np.concatenate((w, np.cross(a, b)), axis=-1)
    opposite = w[..., 0] < 1e-9
    if np.any(opposite):
        helper = np.where(np.abs(a[opposite][:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
        axis = np.cross(a[opposite], helper)
        q[opposite] = np.concatenate((np.zeros((axis.shape[0], 1)), axis), axis=-1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def cumulative_quat_product(increments: np.ndarray) -> np.ndarray:
    """Return ``P[k] = increments[0] * increments[1] * ... * increments[k]`` for an ``(n, 4)`` array.

    A blocked scan: the ``n`` products are split into about ``sqrt(n)`` blocks that are scanned side by side (one
    vectorised product per position in a block), then the block totals are chained and applied to every block at
    once. Python loops over about ``2 sqrt(n)`` steps instead of ``n``.
    """
    n = increments.shape[0]
    block = max(1, int(np.sqrt(n)))
    n_blocks = -(-n // block)
    padded = np.tile(IDENTITY, (n_blocks * block, 1))
    padded[:n] = increments
    steps = padded.reshape(n_blocks, block, 4)
    scanned = np.empty_like(steps)
    scanned[:, 0] = steps[:, 0]
    for j in range(1, block):
        scanned[:, j] = quat_mul(scanned[:, j - 1], steps[:, j])
    scanned /= np.linalg.norm(scanned, axis=-1, keepdims=True)
    prefix = np.empty((n_blocks, 4))
    prefix[0] = IDENTITY
    for b in range(1, n_blocks):
        chained = quat_mul(prefix[b - 1], scanned[b - 1, -1])
        prefix[b] = chained / np.linalg.norm(chained)
    result = quat_mul(prefix[:, None, :], scanned).reshape(-1, 4)[:n]
    return result / np.linalg.norm(result, axis=-1, keepdims=True)
