"""A site's personalisation: the weight-space step from the global model towards its fine-tuned one."""

import numpy as np
import pytest

pytest.importorskip("torch")

from exohub.exceptions import ValidationError
from exohub.federated.task import PERSONALISE_WEIGHT, interpolate_weights


def test_interpolation_is_a_straight_line_in_weight_space() -> None:
    start = [np.zeros((2, 3), dtype=np.float32), np.array([1.0, -1.0], dtype=np.float32)]
    end = [np.full((2, 3), 4.0, dtype=np.float32), np.array([3.0, 1.0], dtype=np.float32)]
    for fraction, expected in ((0.0, start), (1.0, end)):
        for got, want in zip(interpolate_weights(start, end, fraction), expected, strict=True):
            np.testing.assert_array_equal(got, want)
    halfway = interpolate_weights(start, end, 0.25)
    np.testing.assert_array_equal(halfway[0], np.full((2, 3), 1.0))
    np.testing.assert_array_equal(halfway[1], [1.5, -0.5])
    assert all(array.dtype == np.float32 for array in halfway)  # what the model's state dict takes
    assert 0.0 < PERSONALISE_WEIGHT <= 1.0


def test_interpolation_refuses_other_architectures_and_fractions_outside_0_1() -> None:
    weights = [np.zeros(3)]
    with pytest.raises(ValidationError, match="one architecture"):
        interpolate_weights(weights, [np.zeros(4)], 0.5)
    with pytest.raises(ValidationError, match="one architecture"):
        interpolate_weights(weights, [np.zeros(3), np.zeros(1)], 0.5)
    with pytest.raises(ValidationError, match=r"fraction must be in \[0, 1\]"):
        interpolate_weights(weights, weights, 1.5)
