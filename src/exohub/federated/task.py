"""What one clinic site does with its own data: load it, split it, train and evaluate the shared model on it.

Only :mod:`exohub.ml` functions touch the data; this module turns Flower's records into their arguments and their
results back into records. Raw recordings never leave the site: what a site sends is model weights, per-channel
input statistics (count, sum, sum of squares) and metrics.

A site is described by its SuperNode's ``node_config``:

``data-dir`` (str)
    Folder holding the site's subject folders (``ABxx/labeled_*.txt.gz``, the hip-exo layout).
``subjects`` (str, optional)
    Comma-separated subject folders to use; all if empty.
``max-files`` (int, optional)
    Use only the first recordings of each subject in name order (0 = all).
``test-every`` (int, optional)
    Every ``test-every``-th recording of each subject (the last of each group, in name order) is the site's test
    set; the rest train. Default 4.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
from flwr.app import ConfigRecord

from exohub.exceptions import ValidationError
from exohub.ml.data import SubjectData, load_hipexo_subjects, make_windows
from exohub.ml.evaluation import evaluate
from exohub.ml.training import TrainConfig, get_weights, make_model, set_weights, train

#: TrainConfig fields sent to the sites in each round's ConfigRecord (Flower keys use dashes); FedProx's strategy
#: sends ``proximal-mu`` itself.
CONFIG_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(TrainConfig) if field.name != "proximal_mu")
DEFAULT_TEST_EVERY = 4
#: Epochs of a site's fine-tuning of the final global model (:func:`personalise`), and its learning rate as a
#: fraction of the rounds' own. Paired on one global model of six one-subject sites, 10 epochs at 0.3 scored
#: 3.27 % phase RMSE (root mean square over sites) against 3.34 % for 1 epoch at 0.1, and beat local-only
#: training at four sites instead of two; 30 epochs at the full rate was no better (docs/measurements.md,
#: "Federated training").
PERSONALISE_EPOCHS = 10
PERSONALISE_LEARNING_RATE_FRACTION = 0.3
#: The personalised model is this point on the straight line from the global weights (0) to the fine-tuned ones
#: (1): a weight-space interpolation in the manner of WiSE-FT (Wortsman et al., "Robust fine-tuning of zero-shot
#: models", CVPR 2022), which keeps what the federation learnt from the other sites where a site's own recordings
#: say little. On two splits of six one-subject sites (docs/measurements.md, "Federated training"), 0.75 gave 1.02x
#: and 0.99x the centralised phase RMSE where 1 (the fine-tuned model) gave 1.04x and 0.98x, and five sites of six
#: beat their local-only model on both splits instead of four (a later run of the README command: 1.03x, three
#: sites better and one tied; the site count moves from run to run).
PERSONALISE_WEIGHT = 0.75


@dataclass(frozen=True)
class SiteData:
    """One site's subjects, split by recording into training and test sets.

    Attributes
    ----------
    name
        The site's subjects joined by ``+`` (e.g. ``"AB01+AB02"``).
    train
        Per subject, the recordings used for training.
    test
        Per subject, the held-out recordings (at least one per subject).
    """

    name: str
    train: tuple[SubjectData, ...]
    test: tuple[SubjectData, ...]


def split_recordings(subject: SubjectData, test_every: int) -> tuple[SubjectData, SubjectData]:
    """Split a subject's recordings into training and test sets.

    Every ``test_every``-th recording (indices ``test_every - 1``, ``2 * test_every - 1``...) is test, the rest
    train; a subject with fewer recordings gives its last one to test.

    Parameters
    ----------
    subject
        One subject, at least two recordings.
    test_every
        At least 2.

    Returns
    -------
    train, test : SubjectData
    """
    n = len(subject.inputs)
    if test_every < 2:
        raise ValidationError(f"test-every must be at least 2, got {test_every}.")
    if n < 2:
        raise ValidationError(f"subject {subject.subject} has {n} recording(s); a site needs 2 to train and test.")
    is_test = (np.arange(n) % test_every) == test_every - 1
    if not is_test.any():
        is_test[-1] = True

    def pick(mask: np.ndarray) -> SubjectData:
        index = np.flatnonzero(mask)
        return SubjectData(
            subject=subject.subject,
            inputs=[subject.inputs[i] for i in index],
            phase=[subject.phase[i] for i in index],
            mode=[subject.mode[i] for i in index],
        )

    return pick(~is_test), pick(is_test)


def load_site(node_config: Mapping[str, object]) -> SiteData:
    """Load and split a site's data from its SuperNode's ``node_config`` (cached per process; see module doc)."""
    if "data-dir" not in node_config:
        raise ValidationError("node_config has no 'data-dir': start the SuperNode with --node-config data-dir=...")
    subjects = tuple(s.strip() for s in str(node_config.get("subjects", "")).split(",") if s.strip())
    max_files = int(node_config.get("max-files", 0))  # type: ignore[call-overload]
    test_every = int(node_config.get("test-every", DEFAULT_TEST_EVERY))  # type: ignore[call-overload]
    return _load_site(str(node_config["data-dir"]), subjects, max_files, test_every)


@functools.lru_cache(maxsize=16)
def _load_site(data_dir: str, subjects: tuple[str, ...], max_files: int, test_every: int) -> SiteData:
    loaded = load_hipexo_subjects(Path(data_dir), subjects=subjects or None, max_files_per_subject=max_files or None)
    parts = [split_recordings(subject, test_every) for subject in loaded.values()]
    return SiteData(
        name="+".join(loaded), train=tuple(train for train, _ in parts), test=tuple(test for _, test in parts)
    )


def config_to_record(config: TrainConfig) -> ConfigRecord:
    """Every TrainConfig field but ``proximal_mu`` (the strategy's) as a ConfigRecord, dashes for underscores."""
    return ConfigRecord({name.replace("_", "-"): getattr(config, name) for name in CONFIG_FIELDS})


def config_from_record(record: ConfigRecord, *, server_round: int = 0) -> TrainConfig:
    """TrainConfig from a round's ConfigRecord: FedProx's ``proximal-mu`` included, the seed offset by the round."""
    missing = [name for name in CONFIG_FIELDS if name.replace("_", "-") not in record]
    if missing:
        raise ValidationError(f"the round's config lacks {', '.join(missing)}.")
    values = {name: record[name.replace("_", "-")] for name in CONFIG_FIELDS}
    values["proximal_mu"] = float(record.get("proximal-mu", 0.0))  # type: ignore[arg-type]
    values["seed"] = int(values["seed"]) + 1000 * server_round  # type: ignore[call-overload]
    if server_round:
        values["cycle_round"] = server_round
    return TrainConfig(**values)  # type: ignore[arg-type]


def input_statistics(site: SiteData) -> tuple[int, np.ndarray, np.ndarray]:
    """Count, per-channel sum and sum of squares of the site's training inputs (for a shared normaliser)."""
    samples = [values.astype(np.float64) for subject in site.train for values in subject.inputs]
    stacked = np.concatenate(samples)
    return len(stacked), stacked.sum(axis=0), np.square(stacked).sum(axis=0)


def initial_weights(config: TrainConfig, statistics: Sequence[tuple[int, np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Weights of a fresh model whose input normaliser holds the pooled mean and SD of every site's inputs.

    Parameters
    ----------
    config
        The training configuration (seed and window fix the model).
    statistics
        Per site, the output of :func:`input_statistics`.
    """
    count = sum(n for n, _, _ in statistics)
    total = np.sum([s for _, s, _ in statistics], axis=0)
    total_sq = np.sum([q for _, _, q in statistics], axis=0)
    mean = total / count
    sd = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    sd[~(sd > 1e-8)] = 1.0
    model = make_model(config)
    normaliser = model.normaliser
    normaliser.mean.copy_(normaliser.mean.new_tensor(mean))
    normaliser.sd.copy_(normaliser.sd.new_tensor(sd))
    normaliser.fitted.fill_(1.0)
    return get_weights(model)


def train_site(
    weights: list[np.ndarray], site: SiteData | Sequence[SiteData], config: TrainConfig, *, proximal: bool = False
) -> tuple[list[np.ndarray], dict[str, float]]:
    """Train from ``weights`` on the training recordings of one site (or of several pooled: the centralised model).

    Parameters
    ----------
    weights
        Starting weights (the global model).
    site
        The site, or sites whose training recordings are pooled.
    config
        Epochs, batch size, learning rate... ``config.proximal_mu`` > 0 with ``proximal=True`` adds FedProx's
        proximal term towards ``weights``.
    proximal
        Whether ``weights`` are the global model FedProx pulls towards.

    Returns
    -------
    weights : list of numpy.ndarray
        The trained weights.
    metrics : dict
        The training metrics of :func:`exohub.ml.training.train` plus ``num-examples`` (training windows).
    """
    sites = [site] if isinstance(site, SiteData) else list(site)
    X, Y, M = make_windows(  # noqa: N806 - the ml layer's names
        [subject for s in sites for subject in s.train], window=config.window, step=config.step
    )
    model = make_model(config)
    set_weights(model, weights)
    metrics = train(model, X, Y, M, config, global_weights=weights if proximal else None)
    return get_weights(model), {**{k: float(v) for k, v in metrics.items()}, "num-examples": float(len(X))}


def personalise(weights: list[np.ndarray], site: SiteData, config: TrainConfig) -> list[np.ndarray]:
    """Fine-tune the final global model on one site's own training recordings (a personalised model of that site).

    :data:`PERSONALISE_EPOCHS` epochs at :data:`PERSONALISE_LEARNING_RATE_FRACTION` of the rounds' learning rate,
    starting from the global weights and their shared input normaliser, then :data:`PERSONALISE_WEIGHT` of the way
    from the global weights to the fine-tuned ones. Only the site's own data are used, so a clinic can do this on
    its own machine after the last round (about 15 s for one subject's recordings here).
    """
    rate = PERSONALISE_LEARNING_RATE_FRACTION * config.learning_rate
    tuned, _ = train_site(weights, site, replace(config, epochs=PERSONALISE_EPOCHS, learning_rate=rate))
    return interpolate_weights(weights, tuned, PERSONALISE_WEIGHT)


def interpolate_weights(start: list[np.ndarray], end: list[np.ndarray], fraction: float) -> list[np.ndarray]:
    """The weights ``fraction`` of the way from ``start`` to ``end`` (0 gives ``start``, 1 gives ``end``)."""
    if len(start) != len(end) or any(a.shape != b.shape for a, b in zip(start, end, strict=True)):
        raise ValidationError("interpolated weights must be of one architecture (the same arrays, the same shapes).")
    if not 0.0 <= fraction <= 1.0:
        raise ValidationError(f"fraction must be in [0, 1], got {fraction!r}.")
    return [(a + fraction * (b - a)).astype(a.dtype, copy=False) for a, b in zip(start, end, strict=True)]


def evaluate_site(weights: list[np.ndarray], site: SiteData, config: TrainConfig) -> dict[str, float]:
    """Evaluate ``weights`` on the site's test recordings, pooled over its subjects.

    Returns
    -------
    dict
        ``phase_rmse_pct`` (root of the sample-weighted mean square over subjects), ``mode_accuracy`` (sample-
        weighted), ``n_samples`` and ``num-examples`` (both the number of test samples).
    """
    model = make_model(config)
    set_weights(model, weights)
    results = [evaluate(model, subject, window=config.window) for subject in site.test]
    n = np.array([float(result["n_samples"]) for result in results])
    rmse = np.array([float(result["phase_rmse_pct"]) for result in results])
    accuracy = np.array([float(result["mode_accuracy"]) for result in results])
    total = float(n.sum())
    return {
        "phase_rmse_pct": float(np.sqrt(np.sum(n * rmse**2) / total)),
        "mode_accuracy": float(np.sum(n * accuracy) / total),
        "n_samples": total,
        "num-examples": total,
    }
