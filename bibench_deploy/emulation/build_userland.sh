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

# Under qemu -L the guest reads the host's /proc and /sys wherever the userland has no file of its
# own: TFLite's cpuinfo then parses the host's x86 topology (it crashed) and numpy's OpenBLAS the
# host's changing /proc/cpuinfo. The userland describes the emulated device instead: one
# Cortex-A72 core (MIDR 0x410fd083, Raspberry Pi 4's core), the CPU qemu emulates with
# -cpu cortex-a72, so XNNPACK chooses its kernels as on that board.
describe_cpu() {
    tree=$1 cpu="$1/sys/devices/system/cpu"
    mkdir -p "$cpu/cpu0/topology" "$cpu/cpu0/cpufreq" "$cpu/cpu0/regs/identification"
    echo 0 > "$cpu/possible"; echo 0 > "$cpu/present"
    echo 0 > "$cpu/cpu0/topology/physical_package_id"
    for list in core_siblings_list thread_siblings_list cluster_cpus_list package_cpus_list \
                core_cpus_list die_cpus_list; do
        echo 0 > "$cpu/cpu0/topology/$list"
    done
    echo 1500000 > "$cpu/cpu0/cpufreq/cpuinfo_max_freq"
    echo 600000 > "$cpu/cpu0/cpufreq/cpuinfo_min_freq"
    echo 0x00000000410fd083 > "$cpu/cpu0/regs/identification/midr_el1"
    index=0
    for cache in "1 Data 32K" "1 Instruction 48K" "2 Unified 1024K"; do
        set -- $cache
        mkdir -p "$cpu/cpu0/cache/index$index"
        (cd "$cpu/cpu0/cache/index$index" && echo "$1" > level && echo "$2" > type &&
         echo "$3" > size && echo 0 > shared_cpu_list && echo 64 > coherency_line_size)
        index=$((index + 1))
    done
    printf '%s\n' "processor	: 0" "BogoMIPS	: 108.00" "Features	: fp asimd evtstrm crc32 cpuid" \
        "CPU implementer	: 0x41" "CPU architecture: 8" "CPU variant	: 0x0" "CPU part	: 0xd08" \
        "CPU revision	: 3" "" > "$tree/proc/cpuinfo"
}

# Built beside the target and renamed at the end, so a half-built tree is never taken for one.
rm -rf "$root.partial"
mmdebstrap --quiet --arch=arm64 --variant=minbase --include=python3,python3-venv \
    --customize-hook="$guest python3 -m venv --without-pip /opt/litert" \
    --customize-hook="$install_wheels" \
    --customize-hook="$guest /opt/litert/bin/python3 -m compileall -q /opt/litert/lib" \
    bookworm "$root.partial" "$mirror"
describe_cpu "$root.partial"
echo "$spec" > "$root.partial/.bibench-userland"
rm -rf "$root"
mv "$root.partial" "$root"
