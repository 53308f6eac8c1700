"""The stages that make the trained model: seeded set-up, weights (trained, imported or
drawn), evaluation."""

from __future__ import annotations

from bibench_deploy.algorithms import get_algorithm
from bibench_deploy.architectures import get_architecture
from bibench_deploy.model_dir import base_manifest
from bibench_deploy.stages.state import BuildState
from bibench_deploy.tracing import keras_without_autograph
from bibench_deploy.training.inputs import Preprocessing, test_dataset
from bibench_deploy.training.train import compile_model, train
from bibench_deploy.training.untrained import randomize_untrained


def make_deterministic(seed: int) -> None:
    """Same seed and inputs, same weights and flatbuffer bytes (on the same machine and versions).

    Deterministic TF kernels, every random source seeded, and Keras' layer-name counters reset
    (auto-generated names end up in the flatbuffer's tensor names).
    """
    import tensorflow as tf
    keras_without_autograph()
    tf.keras.backend.clear_session()
    tf.config.experimental.enable_op_determinism()
    tf.keras.utils.set_random_seed(seed)


def prepare(state: BuildState) -> None:
    """Algorithm, architecture, preprocessing, the manifest's head; the training form, seeded."""
    import tensorflow as tf
    tf.get_logger().setLevel("ERROR")  # AutoGraph notes about larq internals are not for users
    request = state.request
    state.algo = get_algorithm(request.algo).with_padding(request.padding)
    state.arch = get_architecture(request.arch)
    state.prep = Preprocessing(state.dataset, state.arch.input_size)
    state.manifest = base_manifest(request)
    make_deterministic(request.train.seed)
    state.model = state.arch.build(state.algo, state.dataset.num_classes)


def load_weights(state: BuildState) -> None:
    """The request's source's weights, or training, or (0 epochs) drawn parameters."""
    request, reporter = state.request, state.reporter
    if request.source is not None:
        reporter.stage(f"loading {request.source.describe()}")
        state.imported = request.source.load(state.model, state.algo)
        compile_model(state.model)
    elif request.train.epochs > 0:
        reporter.stage(f"training {request.name}, {request.train.epochs} epoch(s) "
                       "(graph tracing first)")
        state.history = train(state.model, state.algo, state.dataset, state.prep, request.train,
                              reporter.progress, reporter.epoch)
    else:
        compile_model(state.model)
        state.randomized = randomize_untrained(state.model, request.train.seed)


def evaluate(state: BuildState) -> None:
    """Test accuracy on the dataset; none for an imported model (other classes)."""
    if state.imported is None:
        state.reporter.stage("evaluating")
        test = test_dataset(state.dataset, state.prep, 256)
        state.test_accuracy = float(state.model.evaluate(test, verbose=0)[1])
