"""The deploy graph: each algorithm's inference form of a trained model, thresholds centred."""
