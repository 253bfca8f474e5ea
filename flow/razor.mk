# Razor gate-level check and Razor / island-controller cost (issue 5 parts 6
# and 7; docs/razor_gatelevel.md, docs/PERFORMANCE.md). Knobs:
#   RAZOR_GATE_CONFIG  Razor PE for the gate-level check (osu018)
#   RAZOR_COST_PDKS    PDKs of the cost table (commas or spaces)
#   RAZOR_COST_CTRL_CONFIG  an array config with islands: its own controller is
#                      costed too (make explore passes its config)
RAZOR_GATE_CONFIG ?= testbench/gatelevel/razor_pe_top8.json
RAZOR_COST_PDKS   ?= osu018 sky130hd gf180mcu7t ihp_sg13g2
RAZOR_COST_CTRL_CONFIG ?=

.PHONY: razor-gate razor-cost help-razor

# Synthesis and SDF through the flow's rules (flow/stages.make), then Icarus.
razor-gate: setup
	testbench/gatelevel/razor_gate.sh $(VOSA) $(BUILD) $(RAZOR_GATE_CONFIG)

# Area and power of the PE with 0, 4, 8 and all bits protected and of the
# island controller, per PDK -> $(BUILD)/razor_cost/razor_cost.json.
razor-cost: setup
	RAZOR_COST_CTRL_CONFIG=$(RAZOR_COST_CTRL_CONFIG) flow/razor_cost.sh $(VOSA) $(BUILD) $(call spaces,$(RAZOR_COST_PDKS))

help-razor:
	@echo "  make razor-gate  Razor PE at gate level in Icarus with the osu018 SDF: late bits corrected, missed, none at sign-off"
	@echo "  make razor-cost  area/power of Razor bits and the island controller per PDK (the controller also from its"
	@echo "                   simulated activity, flow/ctrl_activity.sh) -> build/razor_cost/razor_cost.json"
