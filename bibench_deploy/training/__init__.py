"""Training with Keras and Larq: input pipelines, the training loop, untrained parameters."""
