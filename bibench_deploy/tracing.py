"""Faster graph tracing: AutoGraph leaves Keras' own code alone, as TensorFlow intends.

TensorFlow's AutoGraph rewrites the Python source of every function a `tf.function` calls,
except the packages on its do-not-convert list. That list names `keras` but not `tf_keras`, the
package the Keras 2 API (which Larq needs) comes from since TensorFlow 2.16, so every trace
(`fit`, `evaluate`, the LCE converter's) transpiles Keras' training loop, optimizer and layer
machinery again: about 60 % of a build's tracing time. Keras 2 is written to run unconverted
(it ran so as `keras` until TensorFlow 2.15), and the traced graph is the same: same weights
after training, same flatbuffer bytes (tests/training/test_tracing.py). Larq's and this
project's code are still converted.
"""

from __future__ import annotations

UNCONVERTED = ("tf_keras", "contextlib")


def keras_without_autograph() -> None:
    """Put tf_keras (and contextlib, which it wraps its scopes in) on AutoGraph's do-not-convert
    list; idempotent. Without TensorFlow's private config module (another version), nothing."""
    try:
        from tensorflow.python.autograph.core import config
    except ImportError:
        return
    rules = tuple(config.CONVERSION_RULES)
    missing = [name for name in UNCONVERTED
               if not any(isinstance(rule, config.DoNotConvert) and rule.matches(name)
                          for rule in rules)]
    config.CONVERSION_RULES = tuple(config.DoNotConvert(name) for name in missing) + rules
