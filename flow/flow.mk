# Synthesis and static timing of the PE on a PDK, per corner (docs/flow.md).
# Included by the top-level Makefile; the file-level rules live in
# flow/stages.make, run as a sub-make once vosa is built (it asks vosa for the
# PDK's corners). Knobs:
#   PDK=osu018|sky130hd|gf180mcu7t|ihp_sg13g2|<your pdk_configs/*.json>
#   CORNERS="ss_n40C_1v28 ss_n40C_1v30"  corners to time (default: the PDK's
#            voltage ladder; a non-ladder voltage uses the voltage model)
#   VOLTAGES=1.30,1.50  the same, by voltage on the default ladder
#            (both lists take commas or spaces)
# Results go to $(FLOW_DIR) (Makefile): build/<config>-<hash>/<pdk>, with the
# sweep knobs appended when given, so a sweep never overwrites another.
#   PERIOD_NS=  clock period, the clock target (default: the PE's critical path
#            at the sign-off corner, rounded up to the next 10 ps)
#   FREQ_MHZ=   the clock target as a frequency: PERIOD_NS = 1000 / FREQ_MHZ
CORNERS   ?=
VOLTAGES  ?=
PERIOD_NS ?=
FREQ_MHZ  ?=
# A clock target must be a number > 0; FREQ_MHZ sets PERIOD_NS (both given:
# they must agree, as in a sub-make that inherits FREQ_MHZ).
positive_number = $(shell awk -v x='$(strip $(1))' 'BEGIN { if (x ~ /^[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$$/ && x + 0 > 0) print "ok" }')
ifneq ($(strip $(FREQ_MHZ)),)
  ifneq ($(call positive_number,$(FREQ_MHZ)),ok)
    $(error FREQ_MHZ=$(FREQ_MHZ): the clock target must be a frequency > 0 in MHz)
  endif
  freq_period_ns := $(shell awk -v f='$(strip $(FREQ_MHZ))' 'BEGIN { printf "%.4f", 1000 / f }')
  ifneq ($(strip $(PERIOD_NS)),)
    ifneq ($(shell awk -v a='$(strip $(PERIOD_NS))' -v b='$(freq_period_ns)' 'BEGIN { d = a - b; if (d < 0) d = -d; if (d <= 1e-4 * b) print "same" }'),same)
      $(error PERIOD_NS=$(PERIOD_NS) and FREQ_MHZ=$(FREQ_MHZ) ($(freq_period_ns) ns) disagree: give one clock target)
    endif
  endif
  override PERIOD_NS := $(freq_period_ns)
endif
ifneq ($(strip $(PERIOD_NS)),)
  ifneq ($(call positive_number,$(PERIOD_NS)),ok)
    $(error PERIOD_NS=$(PERIOD_NS): the clock period must be a number > 0 in ns)
  endif
endif
FLOW_MAKE = $(MAKE) --no-print-directory -f $(ROOT)/flow/stages.make ROOT=$(ROOT) BUILD=$(BUILD) \
  VOSA=$(VOSA) CONFIG_NAME=$(CONFIG_NAME) FLOW_DIR=$(FLOW_DIR) PDK=$(PDK) DESIGN_DIR=$(DESIGN_DIR) \
  REQUESTED_CORNERS="$(CORNERS)" VOLTAGES="$(VOLTAGES)" PERIOD_NS="$(PERIOD_NS)"

.PHONY: synth sta sdf power flow-all corners synth-array validate-vmodel bench-flow help-flow

synth: rtl
	@$(FLOW_MAKE) synth
sta: rtl
	@$(FLOW_MAKE) sta
sdf: rtl
	@$(FLOW_MAKE) sdf
power: rtl
	@$(FLOW_MAKE) power
# The corners the flow times for PDK, CORNERS and VOLTAGES.
corners: setup
	@$(FLOW_MAKE) corners
# synth + sta + sdf + power in one go
flow-all: rtl
	@$(FLOW_MAKE) all

# Whole-array synthesis (vosa_top flat) for the benchmark; CONFIG picks the array.
ARRAY_CONFIG ?= flow/configs/array_16x16.json
synth-array: setup
	@$(FLOW_MAKE) synth-array ARRAY_CONFIG=$(ARRAY_CONFIG) ARRAY_DIR=$(call config_dir,$(ARRAY_CONFIG))

# Voltage model check: fit sky130 ss_n40C without 1.40 V, predict 1.40 V.
validate-vmodel: rtl
	@$(FLOW_MAKE) validate-vmodel PDK=sky130hd FLOW_DIR=$(call flow_dir,$(CONFIG),sky130hd,$(CORNERS),$(VOLTAGES),$(PERIOD_NS))

# Wall time of the flow per PDK and of a 16x16 array synthesis.
bench-flow: setup
	flow/bench_flow.sh $(BUILD)

help-flow:
	@echo "  make synth       synthesize the PE of CONFIG onto PDK (FLOW_DIR/synth/pe_netlist.v; make flow-dir prints FLOW_DIR:"
	@echo "                   build/<config>-<hash>/<pdk>[-c<corners>][-v<voltages>][-t<period>ns], docs/flow.md)"
	@echo "  make sta         per-bit timing of the PE output register at every corner (sta/bit_timing.json)"
	@echo "  make sdf         SDF per corner (sdf/<corner>.sdf); make power: power/energy.json"
	@echo "  make flow-all    synth + sta + sdf + power in one go"
	@echo "  make corners     print the corners the flow times for PDK, CORNERS= and VOLTAGES="
	@echo "  make synth-array whole-array synthesis (ARRAY_CONFIG, default 16x16; a tiled config by hierarchy, with area and PE power)"
	@echo "  make validate-vmodel  voltage model held-out-corner check (sky130 ss_n40C 1.40 V)"
	@echo "  make bench-flow  flow wall time per PDK -> docs/PERFORMANCE.md"
	@echo "  Flow knobs: PDK= CORNERS= VOLTAGES= PERIOD_NS= or FREQ_MHZ= (the clock target; see docs/flow.md)"
