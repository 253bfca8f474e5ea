# vosa: the user's front door. Every target sets up what it needs first
# (scripts/setup.sh: Debian packages, CMake build), so a fresh machine needs
# only `make demo` or `make test`.
#
# Knobs (override on the command line, e.g. make sim CONFIG=my.json):
#   CONFIG      array config JSON              (default: generator/examples/default.json)
#   PDK         PDK config name in pdk_configs/ (default: osu018)
#   VOSA_DATA_DIR  PDK and DNN data             (default: ../shared)
# Artefacts go to build/<config>/... with a log per step.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help

ROOT          := $(abspath .)
CONFIG        ?= generator/examples/default.json
CONFIG_NAME   := $(basename $(notdir $(CONFIG)))
PDK           ?= osu018
VOSA_DATA_DIR ?= $(abspath $(ROOT)/../shared)
export VOSA_DATA_DIR
JOBS          ?= $(shell nproc)

BUILD         ?= build
VOSA          := $(BUILD)/vosa
DESIGN_DIR    := $(BUILD)/$(CONFIG_NAME)/design
SIM_DIR       := $(BUILD)/$(CONFIG_NAME)/sim


.PHONY: help setup build demo test rtl sim bench bench-sim clean

# Stage fragments (synthesis/STA, characterization, DNN layers, ...) live in
# flow/, beside the Tcl they drive.
include $(sort $(wildcard flow/*.mk))

help:
	@echo "vosa make targets:"
	@echo "  make demo        set up, build, and run the main job on the default array and PDK"
	@echo "  make test        set up, build, and run every test (CTest)"
	@echo "  make rtl         generate RTL for CONFIG into build/<config>/design/"
	@echo "  make sim         Verilator bit-exact GEMM self-check of CONFIG's array"
	@echo "  make bench       every benchmark (results: docs/PERFORMANCE.md)"
	@echo "  make bench-sim   Verilator throughput of 8x8..64x64 arrays"
	@echo "  make clean       remove build/"
	@$(MAKE) --no-print-directory help-dnn
	@$(MAKE) --no-print-directory help-characterize
	@$(MAKE) --no-print-directory help-flow
	@$(MAKE) --no-print-directory help-razor
	@$(MAKE) --no-print-directory help-explore
	@$(MAKE) --no-print-directory help-validate-errmodel
	@$(MAKE) --no-print-directory help-charlib
	@echo "Knobs: CONFIG=$(CONFIG) PDK=$(PDK) VOSA_DATA_DIR=$(VOSA_DATA_DIR)"

setup:
	@VOSA_BUILD_DIR=$(BUILD) scripts/setup.sh

build: setup

rtl: setup
	$(VOSA) generate --config $(CONFIG) --out $(DESIGN_DIR)

sim: rtl
	@mkdir -p $(SIM_DIR)
	testbench/run_gemm_check.sh $(DESIGN_DIR) $(SIM_DIR) | tee $(SIM_DIR)/gemm_check.log

# The main job on the embedded default (osu018 needs no data beyond Debian's
# package): RTL, Verilator check, synthesis + per-bit STA + SDF + power at
# every (derated) voltage, and the timing-error model from gate-level timing
# simulation.
DEMO_STEPS := flow-all characterize
demo: setup rtl sim $(DEMO_STEPS)
	@VOSA=$(VOSA) scripts/demo_summary.sh $(BUILD)/$(CONFIG_NAME) $(PDK)

test: setup
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: bench-sim bench-dnn bench-flow bench-dta

bench-sim: setup
	BUILD=$(abspath $(BUILD)) scripts/bench_sim.sh

clean:
	rm -rf $(BUILD)

