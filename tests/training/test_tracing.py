"""Keras left unconverted by AutoGraph: faster traces, the same graph."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import bibench_deploy  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow is imported)
import tensorflow as tf
from tensorflow.python.autograph.core import config
from tensorflow.python.autograph.impl import conversion
import tf_keras

from bibench_deploy.algorithms import ALGORITHMS
from bibench_deploy.stages.model import make_deterministic
from bibench_deploy.tracing import keras_without_autograph
from bibench_deploy.training.train import weights_sha256
from tests.algorithms.conftest import TINY, images


@pytest.fixture
def default_rules():
    """TensorFlow's own rules (re-read from its module: builds earlier in the session changed
    them); the session's rules are put back afterwards."""
    import importlib
    saved = config.CONVERSION_RULES
    yield importlib.reload(config).CONVERSION_RULES
    config.CONVERSION_RULES = saved


def test_keras_is_left_unconverted_and_larq_still_converted(default_rules):
    import larq
    config.CONVERSION_RULES = default_rules
    train_step = tf_keras.Model.train_step
    assert not conversion.is_allowlisted(train_step)  # TensorFlow's own list misses tf_keras
    keras_without_autograph()
    keras_without_autograph()
    assert conversion.is_allowlisted(train_step)
    assert not conversion.is_allowlisted(larq.layers.QuantConv2D.call)
    assert len(config.CONVERSION_RULES) == len(default_rules) + 2  # idempotent


@pytest.mark.parametrize("name", ["xnorpp", "reactnet"])
@pytest.mark.trains
def test_training_and_conversion_give_the_same_bytes_either_way(name, default_rules):
    """Weights after two training steps and the flatbuffer, with Keras converted or not."""
    import larq_compute_engine as lce
    x, y = images(16), np.arange(16) % 10

    def fingerprint(keras_converted: bool):
        make_deterministic(0)  # leaves Keras unconverted
        if keras_converted:
            config.CONVERSION_RULES = default_rules
        assert conversion.is_allowlisted(tf_keras.Model.train_step) is not keras_converted
        model = TINY.build(ALGORITHMS.get(name), 10)
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-2),
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        return weights_sha256(model), hashlib.sha256(lce.convert_keras_model(model)).hexdigest()

    assert fingerprint(keras_converted=True) == fingerprint(keras_converted=False)
