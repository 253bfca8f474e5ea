# PE arithmetic variants side by side (docs/arith.md): every config in
# ARITH_CONFIGS through synthesis, per-bit STA and power on every PDK in
# ARITH_PDKS, then one table (arith-compare/report.{md,json}). Knobs:
#   ARITH_PDKS="sky130hd osu018"         PDKs
#   ARITH_CONFIGS="flow/configs/arith/*.json"  one PE variant each (8x8 int8)
#   PERIOD_NS=  as in flow.mk (default: each variant's own critical path)
ARITH_PDKS    ?= sky130hd osu018
ARITH_CONFIGS ?= $(sort $(wildcard flow/configs/arith/*.json))
ARITH_OUT     ?= $(BUILD)/arith-compare

.PHONY: arith-compare help-arith

arith-compare: setup
	@VOSA=$(VOSA) BUILD=$(BUILD) MAKE="$(MAKE)" PERIOD_NS="$(PERIOD_NS)" \
	  flow/arith_compare.sh $(ARITH_OUT) "$(ARITH_PDKS)" $(ARITH_CONFIGS)

help-arith:
	@echo "  make arith-compare  PE adder/multiplier/carry-save variants: area, critical path, per-bit"
	@echo "                      arrivals, energy per MAC on ARITH_PDKS -> arith-compare/report.md (docs/arith.md)"
