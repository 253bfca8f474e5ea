# PE arithmetic variants side by side (docs/arith.md): every config in
# ARITH_CONFIGS through synthesis, per-bit STA and power on every PDK in
# ARITH_PDKS, then one table (arith-compare/report.{md,json}). Knobs:
#   ARITH_PDKS="sky130hd osu018"         PDKs
#   ARITH_CONFIGS="flow/configs/arith/*.json"  one PE variant each (8x8 int8)
#   PERIOD_NS=  as in flow.mk (default: each variant's own critical path)
#   ARITH_ERRORS=1  also characterize every variant (make characterize) on
#                   MODEL's real layer stream (flow/explore_trace.sh) at
#                   ARITH_VOLTAGES_<pdk>; 0 skips the timing-error columns
#   ARITH_CYCLES=200000  simulated cycles per voltage (at most the stream's length)
ARITH_PDKS    ?= sky130hd osu018
ARITH_CONFIGS ?= $(sort $(wildcard flow/configs/arith/*.json))
ARITH_OUT     ?= $(BUILD)/arith-compare
ARITH_ERRORS  ?= 1
ARITH_CYCLES  ?= 200000
ARITH_VOLTAGES_sky130hd ?= 1.44,1.52,1.60,1.64,1.68,1.72,1.76
ARITH_VOLTAGES_osu018   ?= 1.40,1.50,1.60,1.70,1.80

.PHONY: arith-compare help-arith

arith-compare: setup
	@VOSA=$(VOSA) BUILD=$(BUILD) MAKE="$(MAKE)" PERIOD_NS="$(PERIOD_NS)" ARITH_ERRORS=$(ARITH_ERRORS) \
	  ARITH_CYCLES=$(ARITH_CYCLES) $(foreach p,$(ARITH_PDKS),ARITH_VOLTAGES_$(p)=$(ARITH_VOLTAGES_$(p))) \
	  MODEL_FILE=$(MODEL_FILE) DATA=$(DATA) INPUT_ENCODING=$(INPUT_ENCODING) MODEL_NAME=$(MODEL_NAME) \
	  flow/arith_compare.sh $(ARITH_OUT) "$(ARITH_PDKS)" $(ARITH_CONFIGS)

help-arith:
	@echo "  make arith-compare  PE adder/multiplier/carry-save variants: area, critical path, per-bit"
	@echo "                      arrivals, energy per MAC on ARITH_PDKS -> arith-compare/report.md (docs/arith.md)"
