"""Shared labs: devices reserved through a labgrid coordinator, driven by `labgrid-client`.

labgrid lives in its own virtual environment (it needs a protobuf TensorFlow cannot import), so
the tool never imports it: every coordinator call is a `labgrid-client` subprocess.
"""
