# Two commands do all the set-up on a fresh machine:
#   make demo   build a model, measure it on the local fleet, write a report
#   make test   run the whole test suite, fast and slow tests (installs OpenSSH server for the
#               fleet tests if missing, builds the aarch64 userland for the emulation and the
#               loopback board tests); `make test-unit` runs only the unit tier (minutes),
#               `make test-fast` everything but the slow tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# labgrid (shared labs) needs a protobuf TensorFlow cannot import: its own environment, used
# only through its labgrid-client command
LABGRID_VENV ?= .labgrid-venv
LABGRID_SPEC ?= labgrid==26.0.1
DEMO_MODEL ?= resnet20-bnn

.PHONY: demo test test-unit test-integration test-fast test-slow system-deps labgrid-venv aarch64-userland published-report clean

$(BIN)/bibench-deploy: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,import]"
	touch $@

demo: $(BIN)/bibench-deploy
	$(BIN)/bibench-deploy build --algo bnn --arch resnet20 --epochs 3 --force
	$(BIN)/bibench-deploy run --fleet devices/local.yaml --models '$(DEMO_MODEL)' --reports-dir reports/demo
	$(BIN)/bibench-deploy report "$$(ls -td reports/demo/*/ | head -n 1)"

# The published report of this host (reports/x86_64-host/): every algorithm on resnet18 (one
# epoch on the embedded dataset) and resnet18_imagenet (untrained, latency only), measured on the
# local fleet, then the report and the README's deployability table.
REPORT_ALGOS ?= bnn xnor dorefa bireal xnorpp reactnet recu fda
published-report: $(BIN)/bibench-deploy
	mkdir -p reports/x86_64-host; failed=""; for algo in $(REPORT_ALGOS); do \
	  $(BIN)/bibench-deploy build --algo $$algo --arch resnet18 --epochs 1 --force \
	    || failed="$$failed resnet18-$$algo"; \
	  $(BIN)/bibench-deploy build --algo $$algo --arch resnet18_imagenet --epochs 0 --force \
	    || failed="$$failed resnet18_imagenet-$$algo"; \
	done; echo "builds that failed:$${failed:- none}" | tee reports/x86_64-host/failed-builds.txt
	$(BIN)/bibench-deploy run --fleet devices/x86_64-host.yaml --models 'resnet18*' --reports-dir reports/x86_64-host --max-group-secs 90
	$(BIN)/bibench-deploy report "$$(ls -td reports/x86_64-host/*/ | head -n 1)"
	$(BIN)/bibench-deploy algos --arch resnet18 --write README.md

# The emulated aarch64 device: qemu-user loads the instruction-counting plugin (built with gcc);
# the tests cross-compile a static aarch64 program; qemu-user-static (binfmt with the F flag),
# mmdebstrap and arch-test build the aarch64 userland.
EMULATION_DEBS := qemu-user qemu-user-static gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	mmdebstrap arch-test

system-deps:
	@test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openssh-server openssh-client; }
	@[ "$$(dpkg-query -W -f='$${db:Status-Status}\n' $(EMULATION_DEBS) 2>/dev/null | grep -cx installed)" \
	   = $(words $(EMULATION_DEBS)) ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $(EMULATION_DEBS) >/dev/null; }

# An arm64 Debian 12 userland with an aarch64 Python, ai-edge-litert and numpy, for running TFLite
# float models under qemu (docs/emulation.md). Built once; rebuilt when its build script changes.
AARCH64_ROOT ?= .aarch64-root
aarch64-userland: $(AARCH64_ROOT)/.bibench-userland

$(AARCH64_ROOT)/.bibench-userland: bibench_deploy/emulation/build_userland.sh | system-deps $(BIN)/bibench-deploy
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env HOST_PIP="$(abspath $(BIN))/python -m pip" \
	    sh bibench_deploy/emulation/build_userland.sh $(AARCH64_ROOT) && $$SUDO touch $@

labgrid-venv: $(LABGRID_VENV)/bin/labgrid-client

$(LABGRID_VENV)/bin/labgrid-client:
	$(PYTHON) -m venv $(LABGRID_VENV)
	$(LABGRID_VENV)/bin/pip install --quiet --upgrade pip
	$(LABGRID_VENV)/bin/pip install --quiet "$(LABGRID_SPEC)"
	touch $@

# `make test` is every test once, in three parts, the quickest answer first: what CI runs.
# system-deps first, so the unit tier finds qemu and the aarch64 cross compiler it tests with.
test: system-deps test-unit test-integration test-slow

# The unit tier (tests/tiers.py): no training, conversion, sshd, labgrid or latency measurement,
# so it needs neither OpenSSH nor labgrid, and nothing in it times itself: two workers.
UNIT_WORKERS ?= 2
test-unit: $(BIN)/bibench-deploy
	$(BIN)/python -m pytest -m unit -p no:cacheprovider -n $(UNIT_WORKERS)

# The rest of the fast tests: real sshd servers and labgrid, small conversions and trainings,
# and the loopback aarch64 board (an sshd whose sessions run in the aarch64 userland).
test-integration: $(BIN)/bibench-deploy system-deps labgrid-venv aarch64-userland
	BIBENCH_AARCH64_ROOT=$(abspath $(AARCH64_ROOT)) \
	  $(BIN)/python -m pytest -m "not slow and not unit" -p no:cacheprovider

test-fast: test-unit test-integration

# The slow tests are whole builds, mostly single-threaded (tracing, conversion, audit): two
# pytest workers share the cores better than one. Tests in one xdist_group (the PyTorch
# trainings) stay on one worker. The fast suite measures latency and loads the CPU on purpose,
# so it runs in one process.
SLOW_WORKERS ?= 2
test-slow: $(BIN)/bibench-deploy system-deps labgrid-venv aarch64-userland
	BIBENCH_AARCH64_ROOT=$(abspath $(AARCH64_ROOT)) \
	  $(BIN)/python -m pytest -m slow -p no:cacheprovider -n $(SLOW_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) $(LABGRID_VENV) *.egg-info
