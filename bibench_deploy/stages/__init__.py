"""`build` as a list of small named stages over one build state (see `sequence`).

`request` and `build` are TensorFlow-free: the CLI and `import` use them without paying for
TensorFlow; the stages themselves import it when they run.
"""
