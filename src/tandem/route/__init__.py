"""Routing: label-set classifiers (zero-shot or trained with LoRA) and a policy over their labels."""

from tandem.route.config import RouterConfig
from tandem.route.policy import LabelPrediction, RoutingDecision
from tandem.route.router import Router, train_router
from tandem.route.train import TrainOptions

__all__ = ["LabelPrediction", "Router", "RouterConfig", "RoutingDecision", "TrainOptions", "train_router"]
