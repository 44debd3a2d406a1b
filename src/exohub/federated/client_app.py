"""The Flower ClientApp each clinic's SuperNode runs: it trains and evaluates the global model on the site's data.

Three handlers (Flower's message API): ``query`` replies with the site's input statistics (count, per-channel sum
and sum of squares, for the shared normaliser), ``train`` trains the received weights on the site's training
recordings and replies with the new weights, ``evaluate`` scores the received weights on the site's held-out
recordings. The site's data come from the SuperNode's ``node_config`` (see :mod:`exohub.federated.task`).
"""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from exohub.federated import task
from exohub.federated.strategy import UNIT_WEIGHT_KEY

app = ClientApp()


@app.query()
def statistics(msg: Message, context: Context) -> Message:
    """Reply with the site's training-input count, per-channel sum and sum of squares."""
    site = task.load_site(context.node_config)
    count, total, total_sq = task.input_statistics(site)
    metrics = MetricRecord({"count": count, "sum": total.tolist(), "sum-squares": total_sq.tolist()})
    return Message(RecordDict({"statistics": metrics}), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Train the received global weights on the site's training recordings; reply with weights and metrics."""
    site = task.load_site(context.node_config)
    config_record = msg.content["config"]
    config = task.config_from_record(config_record, server_round=int(config_record["server-round"]))
    weights = msg.content["arrays"].to_numpy_ndarrays()
    proximal = float(config_record.get("proximal-mu", 0.0)) > 0
    new_weights, metrics = task.train_site(weights, site, config, proximal=proximal)
    reply = RecordDict({"arrays": ArrayRecord(new_weights), "metrics": MetricRecord(_with_unit_weight(metrics))})
    return Message(reply, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    """Evaluate the received global weights on the site's held-out recordings; reply with the metrics."""
    site = task.load_site(context.node_config)
    config = task.config_from_record(msg.content["config"])
    metrics = task.evaluate_site(msg.content["arrays"].to_numpy_ndarrays(), site, config)
    return Message(RecordDict({"metrics": MetricRecord(_with_unit_weight(metrics))}), reply_to=msg)


def _with_unit_weight(metrics: dict[str, float]) -> dict[str, float]:
    return {**metrics, UNIT_WEIGHT_KEY: 1.0}
