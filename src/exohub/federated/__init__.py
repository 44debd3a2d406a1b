"""Federated training across clinic sites with Flower: each clinic's SuperNode trains on its own patients' data.

:mod:`~exohub.federated.client_app` and :mod:`~exohub.federated.server_app` hold the Flower apps,
:mod:`~exohub.federated.task` what a site does with its data, :mod:`~exohub.federated.strategy` FedAvg/FedProx
with optional differential privacy, and :mod:`~exohub.federated.simulate` an in-process run compared with the
centralised and local-only models.
"""

from exohub.federated.simulate import LocalGrid, SimulationResult, assign_sites, run_federated_simulation
from exohub.federated.strategy import DPConfig, make_strategy, privacy_spent

__all__ = [
    "DPConfig",
    "LocalGrid",
    "SimulationResult",
    "assign_sites",
    "make_strategy",
    "privacy_spent",
    "run_federated_simulation",
]
