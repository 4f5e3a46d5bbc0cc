"""Helpers for the dropout chapter: layers, data, models, training, plots."""

from .data import (
    FashionMNIST,
    FashionMNISTError,
    TensorBatches,
    fashion_mnist_batches,
    load_fashion_mnist,
    prepare_fashion_mnist,
    text_labels,
)
from .explorer import DropoutExplorer
from .figures import dropout_mlp_figure
from .layers import Dropout, check_drop_prob, dropout_layer
from .models import DropoutMLP, concise_mlp, copy_weights, init_normal
from .plotting import LiveCurves, plot_history
from .training import (
    EpochStats,
    History,
    StopTraining,
    TrainConfig,
    TrainingDivergedError,
    evaluate_accuracy,
    pick_device,
    train,
    train_epoch,
)

__all__ = [
    "Dropout",
    "DropoutExplorer",
    "DropoutMLP",
    "EpochStats",
    "FashionMNIST",
    "FashionMNISTError",
    "History",
    "LiveCurves",
    "StopTraining",
    "TensorBatches",
    "TrainConfig",
    "TrainingDivergedError",
    "check_drop_prob",
    "concise_mlp",
    "copy_weights",
    "dropout_layer",
    "dropout_mlp_figure",
    "evaluate_accuracy",
    "fashion_mnist_batches",
    "init_normal",
    "load_fashion_mnist",
    "pick_device",
    "plot_history",
    "prepare_fashion_mnist",
    "text_labels",
    "train",
    "train_epoch",
]
