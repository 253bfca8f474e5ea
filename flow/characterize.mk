# Timing-error characterization of the PE by gate-level timing simulation
# (docs/dta.md): one `vosa dta` run per corner on the flow's netlist and SDF,
# merged into $(FLOW_DIR)/errmodel/errmodel.json (docs/errmodel.md).
# Knobs (with the flow's CORNERS= VOLTAGES= PERIOD_NS=):
#   OPERANDS=uniform:1 | layer:1 | trace:FILE.vtrace   operand stream
#   DTA_CYCLES=1000000      cycles (vector pairs) per corner and period: every bit with
#                           p_error >= 1e-4 gets a 95 % CI half-width <= 20 % of p (docs/dta.md);
#                           20000 with DTA_ENERGY=1 (its activity is simulated event by event)
#   DTA_PERIODS_NS=         clock periods to simulate (default: the flow's period)
#   DTA_DELAY_MODE=transport|inertial|modpath   DTA_SETUP=sdf|zero
#   DTA_PATTERNS=16         joint error patterns kept per point and operand class
#   DTA_MASK_FORM=          vosa dta --mask-form: value-classes (default), xor, correct-bits,
#                           value-classes+correct-bits (docs/errmodel.md "Value classes")
#   DTA_MODE=               precision mode held on mode_i (a PE with precision_modes)
OPERANDS       ?= uniform:1
DTA_CYCLES     ?= $(if $(filter 1,$(DTA_ENERGY)),20000,1000000)
DTA_PERIODS_NS ?=
DTA_DELAY_MODE ?= transport
DTA_SETUP      ?= sdf
DTA_THREADS    ?= $(JOBS)
DTA_PATTERNS   ?= 16
DTA_MASK_FORM  ?=
DTA_ENERGY     ?= 0
DTA_MODE       ?=

.PHONY: characterize bench-dta dta-sta-bound dta-exactness energy-check help-characterize

characterize: sdf
	@VOSA=$(VOSA) BUILD=$(BUILD) FLOW_DIR=$(FLOW_DIR) PDK=$(PDK) DESIGN_DIR=$(DESIGN_DIR) \
	  CORNERS="$(call spaces,$(CORNERS))" VOLTAGES="$(call commas,$(VOLTAGES))" DTA_PERIODS_NS="$(call commas,$(DTA_PERIODS_NS))" \
	  OPERANDS="$(OPERANDS)" DTA_CYCLES=$(DTA_CYCLES) DTA_DELAY_MODE=$(DTA_DELAY_MODE) \
	  DTA_SETUP=$(DTA_SETUP) DTA_THREADS=$(DTA_THREADS) DTA_PATTERNS=$(DTA_PATTERNS) DTA_ENERGY=$(DTA_ENERGY) DTA_MODE=$(DTA_MODE) DTA_MASK_FORM=$(DTA_MASK_FORM) flow/characterize.sh

# vosa dta vs Icarus on the same vectors, one core and two (docs/PERFORMANCE.md).
BENCH_DTA_CYCLES ?= 20000
bench-dta: setup
	flow/bench_dta.sh $(VOSA) $(BUILD)/bench-dta $(BENCH_DTA_CYCLES)

# The long versions of the tests dta.sta_bounds_dta and dta.engines_agree
# (docs/dta.md): every shipped PDK, DTA_CHECK_CYCLES per run.
DTA_CHECK_CYCLES ?= 1000000
DTA_CHECK_CASES  ?= osu018:generator/examples/default.json osu018:tests/configs/os_4x4.json \
  osu018:generator/examples/explore_16x16.json sky130hd:generator/examples/default.json sky130hd:flow/configs/array_16x16.json \
  gf180mcu7t:generator/examples/default.json ihp_sg13g2:generator/examples/default.json
DTA_CHECK_OPERANDS ?= uniform:1 layer:2
DTA_CHECK_ENGINES  ?= parallel filter
DTA_CHECK_PERIODS  ?= 1.0 0.97 0.8 0.6 0.4
dta-sta-bound: setup
	flow/dta_sta_bound.sh $(VOSA) $(BUILD)/dta-sta-bound $(DTA_CHECK_CYCLES) "$(DTA_CHECK_CASES)" "event parallel filter" $(DTA_CHECK_OPERANDS)
# Each case also on make bench-dta's setup (DTA_CHECK_ARGS; empty: the SDF setup only).
DTA_CHECK_ARGS     ?= --setup zero --input-delay-ns 0.01
dta-exactness: setup
	DTA_ENGINES="$(DTA_CHECK_ENGINES)" DTA_PERIODS="$(DTA_CHECK_PERIODS)" flow/dta_engines_agree.sh $(VOSA) $(BUILD)/dta-exactness $(DTA_CHECK_CYCLES) "$(DTA_CHECK_CASES)" $(DTA_CHECK_OPERANDS)
	$(if $(strip $(DTA_CHECK_ARGS)),DTA_ARGS="$(DTA_CHECK_ARGS)" DTA_ENGINES="$(DTA_CHECK_ENGINES)" DTA_PERIODS="$(DTA_CHECK_PERIODS)" flow/dta_engines_agree.sh $(VOSA) $(BUILD)/dta-exactness $(DTA_CHECK_CYCLES) "$(DTA_CHECK_CASES)" $(DTA_CHECK_OPERANDS))

# Energy from the simulated activity vs OpenSTA report_power on the same
# per-net activity, sky130hd and osu018 (docs/dta.md "Energy"; the test
# dta.energy_vs_opensta runs the osu018 case).
ENERGY_CHECK_CYCLES ?= 20000
ENERGY_CHECK_CASES  ?= sky130hd:generator/examples/default.json osu018:generator/examples/default.json
ENERGY_CHECK_TOL_PCT ?= 2
energy-check: setup
	flow/energy_check.sh $(VOSA) $(BUILD)/energy-check $(ENERGY_CHECK_CYCLES) $(ENERGY_CHECK_TOL_PCT) "$(ENERGY_CHECK_CASES)"

help-characterize:
	@echo "  make characterize  per-bit timing-error model of the PE at every corner (errmodel/errmodel.json)"
	@echo "                     knobs: OPERANDS=uniform:1|layer:1|trace:F DTA_CYCLES=1000000 DTA_PERIODS_NS= DTA_DELAY_MODE= DTA_PATTERNS="
	@echo "                     DTA_ENERGY=1: also energy per MAC from the simulated activity (points[].energy)"
	@echo "                     DTA_MODE=M: the precision mode held on a PE with precision_modes (vosa dta --mode)"
	@echo "                     DTA_MASK_FORM=xor|correct-bits|value-classes|value-classes+correct-bits: what the patterns keep (default value-classes)"
	@echo "  make bench-dta     vosa dta vector-pairs/s vs Icarus on the same vectors -> docs/PERFORMANCE.md"
	@echo "  make dta-sta-bound no timing error and no bit later than STA at the critical-path period (DTA_CHECK_CYCLES=1000000)"
	@echo "  make dta-exactness the parallel and filter engines capture the event engine's value in every cycle (DTA_CHECK_CYCLES=1000000 per period,"
	@echo "                     DTA_CHECK_CASES=\"PDK:CONFIG ...\" DTA_CHECK_ENGINES=\"parallel filter\","
	@echo "                     DTA_CHECK_PERIODS=\"1.0 0.97 0.8 0.6 0.4\": fractions of the critical path;"
	@echo "                     each case again with DTA_CHECK_ARGS=\"--setup zero --input-delay-ns 0.01\", make bench-dta's setup)"
	@echo "  make energy-check  energy from simulated activity vs OpenSTA report_power on the same activity (sky130hd, osu018)"
