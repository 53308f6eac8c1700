"""An emulated aarch64 device: real aarch64 programs run on the host under qemu-user while our
own TCG plugin counts the guest instructions they execute (deterministic; never a latency)."""
