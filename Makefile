# vosa: the user's front door. Every target sets up what it needs first
# (scripts/setup.sh: Debian packages, CMake build), so a fresh machine needs
# only `make demo` or `make test`.
#
# Knobs (override on the command line, e.g. make sim CONFIG=my.json):
#   CONFIG      array config JSON              (default: generator/examples/default.json)
#   PDK         PDK config name in pdk_configs/ (default: osu018)
#   VOSA_DATA_DIR  PDK and DNN data             (default: ../shared)
# Artefacts go to build/<config>-<hash>/... with a log per step (docs/flow.md).

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
# V=1: show every command and make's own messages; quiet otherwise.
V             ?=
Q              = $(if $(filter-out 0,$(V)),,@)
MAKEFLAGS     += $(if $(filter-out 0,$(V)),,--no-print-directory)

BUILD         ?= build
VOSA          := $(BUILD)/vosa

# List knobs (VOLTAGES, CORNERS, ...) take commas, spaces or both.
comma := ,
empty :=
space := $(empty) $(empty)
spaces = $(strip $(subst $(comma),$(space),$(1)))
commas = $(subst $(space),$(comma),$(call spaces,$(1)))

# Where results go (docs/flow.md, "Where results go"); every fragment builds
# its paths from these, so two configs or two sweeps never share a folder:
#   $(call config_dir,CONFIG)  build/<name>-<first 8 hex of the file's sha256>
#   $(call flow_dir,CONFIG,PDK,CORNERS,VOLTAGES,PERIOD_NS)
#       <config_dir>/<pdk>, with -c<hash of CORNERS> -v<VOLTAGES> -t<PERIOD_NS>ns
#       appended for each knob given, e.g. build/default-1a2b3c4d/sky130hd-v1.3_1.5
#   CONFIG_DIR, FLOW_DIR  the same for this run's knobs (make config-dir / flow-dir print them)
config_dir = $(BUILD)/$(basename $(notdir $(1)))-$(or $(shell [ -f '$(1)' ] && sha256sum < '$(1)' | cut -c1-8),missing)
flow_dir = $(call config_dir,$(1))/$(2)$(if $(strip $(3)),-c$(shell printf '%s' '$(call spaces,$(3))' | sha256sum | cut -c1-8))$(if $(strip $(4)),-v$(subst $(space),_,$(call spaces,$(4))))$(if $(strip $(5)),-t$(strip $(5))ns)
CONFIG_DIR    := $(call config_dir,$(CONFIG))
FLOW_DIR       = $(call flow_dir,$(CONFIG),$(PDK),$(CORNERS),$(VOLTAGES),$(PERIOD_NS))
DESIGN_DIR    := $(CONFIG_DIR)/design
SIM_DIR       := $(CONFIG_DIR)/sim


.PHONY: help setup build demo test rtl sim bench bench-sim clean config-dir flow-dir

# Stage fragments (synthesis/STA, characterization, DNN layers, ...) live in
# flow/, beside the Tcl they drive.
include $(sort $(wildcard flow/*.mk))

help:
	@echo "vosa make targets:"
	@echo "  make demo        set up, build, and run the main job on the default array and PDK"
	@echo "  make test        set up, build, and run every test (CTest)"
	@echo "  make rtl         generate RTL for CONFIG into build/<config>-<hash>/design/"
	@echo "  make sim         Verilator bit-exact GEMM self-check of CONFIG's array (Razor / islands: also"
	@echo "                   their error-injection and controller checks, docs/razor.md)"
	@echo "  make bench       every benchmark (results: docs/PERFORMANCE.md)"
	@echo "  make bench-sim   Verilator throughput of 8x8..64x64 arrays (SIM_SIZES=\"16 64 256\": those sizes;"
	@echo "                   above 64 as 16x16 tiles)"
	@echo "  make clean       remove build/"
	@echo "  make config-dir / flow-dir   print where this CONFIG's (and PDK's, sweep's) results go"
	@$(MAKE) --no-print-directory help-dnn
	@$(MAKE) --no-print-directory help-characterize
	@$(MAKE) --no-print-directory help-flow
	@$(MAKE) --no-print-directory help-razor
	@$(MAKE) --no-print-directory help-explore
	@$(MAKE) --no-print-directory help-validate-errmodel
	@$(MAKE) --no-print-directory help-charlib
	@$(MAKE) --no-print-directory help-reuse
	@$(MAKE) --no-print-directory help-precision
	@$(MAKE) --no-print-directory help-arith
	@$(MAKE) --no-print-directory help-launch
	@$(MAKE) --no-print-directory help-sram
	@echo "Knobs: CONFIG=$(CONFIG) PDK=$(PDK) VOSA_DATA_DIR=$(VOSA_DATA_DIR) V=1 (show commands and make's messages)"
	@echo "List knobs (VOLTAGES, CORNERS, ...) take commas or spaces. Results: build/<config>-<hash>/ (docs/flow.md)"

setup:
	@VOSA_BUILD_DIR=$(BUILD) V=$(V) scripts/setup.sh

build: setup

rtl: setup
	$(Q)$(VOSA) generate --config $(CONFIG) --out $(DESIGN_DIR)

# GEMM check; a Razor / islands design also gets its injection and controller checks.
sim: rtl
	@mkdir -p $(SIM_DIR)
	$(Q)testbench/run_sim_checks.sh $(DESIGN_DIR) $(SIM_DIR) | tee $(SIM_DIR)/sim_checks.log

# The main job on the embedded default (osu018 needs no data beyond Debian's
# package): RTL, Verilator check, synthesis + per-bit STA + SDF + power at
# every (derated) voltage, and the timing-error model from gate-level timing
# simulation.
DEMO_STEPS := flow-all characterize
demo: setup rtl sim $(DEMO_STEPS)
	@VOSA=$(VOSA) scripts/demo_summary.sh $(CONFIG_DIR) $(FLOW_DIR)

test:
	@VOSA_BUILD_DIR=$(BUILD) V=$(V) VOSA_SETUP_FULL=1 scripts/setup.sh
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: bench-sim bench-dnn bench-flow bench-dta

bench-sim: setup
	BUILD=$(abspath $(BUILD)) scripts/bench_sim.sh $(SIM_SIZES)

clean:
	rm -rf $(BUILD)

# The folders of this CONFIG (and PDK, CORNERS, VOLTAGES, PERIOD_NS), for scripts:
#   ls $$(make -s flow-dir PDK=sky130hd)/sta
config-dir:
	@echo $(CONFIG_DIR)
flow-dir:
	@echo $(FLOW_DIR)

