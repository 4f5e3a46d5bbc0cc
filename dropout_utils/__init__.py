"""Helpers for the dropout chapter: layers, data, models, training, plots."""

from .activations import ActivationStats
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
from .mc_dropout import mc_dropout, mc_predict
from .models import DropoutMLP, concise_mlp, copy_weights, init_normal
from .noise import DropConnectLinear, GaussianNoise, dropout_matching_std
from .plotting import LiveCurves, plot_history
from .training import (
    BatchEnd,
    EpochEnd,
    EpochStats,
    History,
    StopTraining,
    TrainConfig,
    TrainingDivergedError,
    evaluate_accuracy,
    iter_train,
    pick_device,
    train,
    train_epoch,
)

__all__ = [
    "ActivationStats",
    "BatchEnd",
    "DropConnectLinear",
    "Dropout",
    "DropoutExplorer",
    "DropoutMLP",
    "EpochEnd",
    "EpochStats",
    "FashionMNIST",
    "FashionMNISTError",
    "GaussianNoise",
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
    "dropout_matching_std",
    "dropout_mlp_figure",
    "evaluate_accuracy",
    "fashion_mnist_batches",
    "init_normal",
    "iter_train",
    "load_fashion_mnist",
    "mc_dropout",
    "mc_predict",
    "pick_device",
    "plot_history",
    "prepare_fashion_mnist",
    "text_labels",
    "train",
    "train_epoch",
]
