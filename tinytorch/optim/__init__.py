"""``tinytorch.optim``: optimizers and learning-rate schedulers, with torch's names and update rules."""
from __future__ import annotations

from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam
from .lbfgs import LBFGS
from .asgd import ASGD
from .rprop import Rprop
from .sparse_adam import SparseAdam
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "LBFGS", "ASGD", "Rprop",
           "SparseAdam", "Adadelta", "lr_scheduler"]
