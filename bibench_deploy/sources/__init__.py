"""Models from elsewhere: BiBench checkpoint import, `add` of a saved model or file, the FP32
twin of an added model."""
