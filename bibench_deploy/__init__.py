"""bibench-deploy: binarized neural networks from training to measured latency on edge hardware."""

import os

# Larq 0.14 needs the Keras 2 API (tf-keras); it must be chosen before TensorFlow is imported,
# so the package sets it for every entry point. A user's explicit setting is respected.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
