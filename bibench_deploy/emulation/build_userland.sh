#!/bin/sh
# Builds an arm64 Debian 12 userland with an aarch64 Python that runs TFLite's float kernels
# (ai-edge-litert) under qemu-user: `build_userland.sh ROOT`. Needs root (mmdebstrap's root mode
# chroots into the new tree) and qemu-user-static, whose binfmt entry has the F flag: the kernel
# runs the chroot's aarch64 programs with the host's emulator, nothing is copied in.
#
# The wheels are fetched and unpacked by the host's pip for the guest's platform: faster than pip
# under emulation, and the host's certificate store is the one that reaches the package index.
set -eu
root=${1:?usage: build_userland.sh ROOT}
export LITERT_SPEC="${LITERT_SPEC:-ai-edge-litert==2.3.0}" NUMPY_SPEC="${NUMPY_SPEC:-numpy==1.26.4}"
export HOST_PIP="${HOST_PIP:-python3 -m pip}"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
spec="bookworm $LITERT_SPEC $NUMPY_SPEC"

if [ -f "$root/.bibench-userland" ] && [ "$(cat "$root/.bibench-userland")" = "$spec" ]; then
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "error: building the aarch64 userland needs root (mmdebstrap, binfmt_misc)" >&2; exit 1; }
command -v mmdebstrap >/dev/null && [ -x /usr/bin/qemu-aarch64-static ] || {
    echo "error: apt-get install mmdebstrap qemu-user-static arch-test" >&2; exit 1; }

binfmt=/proc/sys/fs/binfmt_misc
[ -f "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt"
if [ ! -f "$binfmt/qemu-aarch64" ]; then
    grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf > "$binfmt/register"
fi
grep -q '^flags: .*F' "$binfmt/qemu-aarch64" || {
    echo "error: $binfmt/qemu-aarch64 lacks the F flag (registered by qemu-user-binfmt?):" \
         "echo -1 > $binfmt/qemu-aarch64, then run again" >&2; exit 1; }

# In the chroot: no host PIP_* settings, no host paths.
guest='chroot "$1" env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8'
# shellcheck disable=SC2016  # $1 is the hook's argument, expanded by mmdebstrap's shell
install_wheels='site=$(echo "$1"/opt/litert/lib/python3.*/site-packages)
version=${site##*/python}; version=${version%%/*}
$HOST_PIP install --quiet --no-compile --target "$site" --only-binary=:all: \
    --implementation cp --python-version "$version" --platform manylinux_2_36_aarch64 \
    --platform manylinux_2_27_aarch64 --platform manylinux2014_aarch64 \
    "$LITERT_SPEC" "$NUMPY_SPEC" > "$1/tmp/pip.log" 2>&1 || { cat "$1/tmp/pip.log" >&2; exit 1; }'

# Built beside the target and renamed at the end, so a half-built tree is never taken for one.
rm -rf "$root.partial"
mmdebstrap --quiet --arch=arm64 --variant=minbase --include=python3,python3-venv \
    --customize-hook="$guest python3 -m venv --without-pip /opt/litert" \
    --customize-hook="$install_wheels" \
    --customize-hook="$guest /opt/litert/bin/python3 -m compileall -q /opt/litert/lib" \
    bookworm "$root.partial" "$mirror"
# Under qemu -L the guest reads the host's /sys wherever the userland has no file of its own:
# TFLite's cpuinfo then parses the host's x86 processor topology and crashes. Lists of possible
# and present processors that do not parse make it give up, as it does in a chroot without /sys.
mkdir -p "$root.partial/sys/devices/system/cpu"
: > "$root.partial/sys/devices/system/cpu/possible"
: > "$root.partial/sys/devices/system/cpu/present"
echo "$spec" > "$root.partial/.bibench-userland"
rm -rf "$root"
mv "$root.partial" "$root"
