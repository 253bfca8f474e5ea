# Voltage and Razor-bit selection on a real DNN under an accuracy budget, and
# its report (docs/explore.md). Included by the top-level Makefile. Knobs:
#   CONFIG=   array config with islands (default generator/examples/explore_16x16.json)
#   PDK=      (default sky130hd)   MODEL= DATA= as in flow/dnn.mk (default resnet8)
#   BUDGET=   top-1 loss budget in percentage points (default 0.5)
#   N=        inputs (default 100)   REPEATS= fault draws per input (default 1)
#   EXPLORE_VOLTAGES=  levels to characterize (default: 1.60,1.64,1.68,1.72,1.76)
#   EXPLORE_OPERANDS=per-layer|trace|trace-rows|uniform  operand stream of the error model:
#                      every array layer's own stream, one band per PE row (default;
#                      flow/explore_layers.sh: layers x rows x the characterization
#                      time), a real layer of MODEL with operand classes and 4096 joint
#                      patterns for every layer (flow/explore_trace.sh), the same layer
#                      per PE row (one band per row, docs/errmodel.md "PE positions"),
#                      or uniform random operands
#   EXPLORE_LAYER_RECORDS=24000 EXPLORE_LAYER_INPUTS=4  per-layer: trace records (= simulated
#                      cycles) per layer and row, over the first 4 inputs
#   EXPLORE_BANDS=rows|data  per-layer: one band per PE row (default), or bands chosen from
#                      the data (vosa errmodel-bands: adjacent rows whose rates agree
#                      within their intervals pooled, docs/errmodel.md "PE positions")
#   EXPLORE_ARGS=      more vosa explore options (--bound upper, --solver greedy, ...)
#   OPERATING_CORNER=  the silicon's process/temperature (tt_025C); default: the sign-off corner's
#   LAUNCHER=slurm EXPLORE_WORKERS= EXPLORE_WORKER_THREADS=  as Slurm job steps (docs/slurm.md)
# The PE is characterized from the config without Razor (explore chooses the
# Razor bits and models them as corrected); with islands, as the array
# instantiates it: vosa dta holds its stall_i inactive (docs/explore.md).
EXPLORE_CFG      = $(if $(filter command line environment,$(origin CONFIG)),$(CONFIG),generator/examples/explore_16x16.json)
EXPLORE_PDK      = $(if $(filter command line environment,$(origin PDK)),$(PDK),sky130hd)
EXPLORE_NAME     = $(basename $(notdir $(EXPLORE_CFG)))
EXPLORE_PE_CFG   = $(call config_dir,$(EXPLORE_CFG))/$(EXPLORE_NAME)_pe.json
# One folder per (model, operating corner, clock target): a relaxed-clock run does
# not overwrite the sign-off clock's report.
EXPLORE_OUT      = $(call config_dir,$(EXPLORE_CFG))/$(EXPLORE_PDK)/explore/$(MODEL_NAME)$(if $(OPERATING_CORNER),-$(OPERATING_CORNER))$(if $(strip $(PERIOD_NS)),-t$(strip $(PERIOD_NS))ns)
EXPLORE_VOLTAGES ?= 1.60,1.64,1.68,1.72,1.76
EXPLORE_OPERANDS ?= per-layer
EXPLORE_LAYER_RECORDS ?= 24000
EXPLORE_LAYER_INPUTS ?= 4
EXPLORE_BANDS    ?= rows
BUDGET           ?= 0.5
REPEATS          ?= 1
EXPLORE_ARGS     ?=
# The silicon's process/temperature (a ladder of the PDK: tt_025C, tt_100C):
# error model and energy at OPERATING_CORNER_<each EXPLORE_VOLTAGES>; the
# clock and the DVFS point stay at the sign-off corner (docs/explore.md).
OPERATING_CORNER ?=
# Where the faulty runs go (flow/launch.mk): this process with JOBS threads,
# EXPLORE_WORKERS local processes, or (LAUNCHER=slurm) srun steps in one
# Slurm job, EXPLORE_WORKER_THREADS threads each; flow/explore_slurm.sh adds
# --workers, -j and --worker-launch itself.
EXPLORE_WORKER_THREADS ?= 1
EXPLORE_PARALLEL  = $(if $(filter slurm,$(LAUNCHER)),,$(if $(filter-out 0,$(EXPLORE_WORKERS)),--workers $(EXPLORE_WORKERS) -j $(EXPLORE_WORKER_THREADS),-j $(JOBS)))

# The last step: vosa explore, or (make explore-sram) the joint search of the
# island voltages and the weight SRAM supply (docs/sram.md "Joint exploration").
EXPLORE_CMD = $(VOSA) explore --config $(EXPLORE_CFG) --errmodel $$char_dir/errmodel/errmodel.json $${layer_models:+--layer-errmodels $$layer_models} \
	  --energy $$char_dir/power/energy_simulated.json $(if $(OPERATING_CORNER),--operating-corner $(OPERATING_CORNER)) --razor-cost $(BUILD)/razor_cost/razor_cost.json \
	  --sta $$pe_dir/sta/bit_timing.json \
	  -m $(MODEL_FILE) -d $(DATA) --input-encoding $(INPUT_ENCODING) --model-name $(MODEL_NAME) \
	  --budget $(BUDGET) -n $(or $(N),100) --repeats $(REPEATS) -o $(EXPLORE_OUT) $(EXPLORE_PARALLEL) $(EXPLORE_ARGS)
# make explore-sram knobs: EXPLORE_SRAM_VOLTAGES= SRAM supplies searched (the
# curve's nominal is added), EXPLORE_SRAM_CHIPS= fault maps per supply,
# SRAM_BER_CURVE= BER(V) (default: the shipped sky130 tt 25 C curve),
# EXPLORE_SRAM_ARGS= more vosa explore-sram options (--sram-pj-per-bit ...).
EXPLORE_SRAM_VOLTAGES ?= 0.30,0.31,0.32,0.33,0.34,0.35,0.40,0.45
EXPLORE_SRAM_CHIPS    ?= 4
EXPLORE_SRAM_CURVE     = $(or $(SRAM_BER_CURVE),testbench/sram/data/ber_sky130hd_tt_25C.json)
EXPLORE_SRAM_ARGS     ?=
EXPLORE_SRAM_CMD = mkdir -p $(EXPLORE_OUT)-sram && $(VOSA) explore-sram --config $(EXPLORE_CFG) \
	  --errmodel $$char_dir/errmodel/errmodel.json --energy $$char_dir/power/energy_simulated.json \
	  $(if $(OPERATING_CORNER),--operating-corner $(OPERATING_CORNER)) --razor-cost $(BUILD)/razor_cost/razor_cost.json \
	  -m $(MODEL_FILE) -d $(DATA) --input-encoding $(INPUT_ENCODING) --model-name $(MODEL_NAME) \
	  --budget $(BUDGET) -n $(or $(N),100) --repeats $(REPEATS) -j $(JOBS) \
	  --ber-curve $(EXPLORE_SRAM_CURVE) --sram-voltages $(call commas,$(EXPLORE_SRAM_VOLTAGES)) \
	  --chips $(EXPLORE_SRAM_CHIPS) -o $(EXPLORE_OUT)-sram/joint.json $(EXPLORE_SRAM_ARGS) \
	  2>&1 | tee $(EXPLORE_OUT)-sram/joint.log; exit $${PIPESTATUS[0]}

.PHONY: explore explore-sram help-explore

# explore-sram takes one error model for every layer: its default stream is a
# real layer of MODEL (trace), not per-layer models.
explore-sram:
	@if [ "$(origin EXPLORE_OPERANDS)" != file ] && [ "$(EXPLORE_OPERANDS)" = per-layer ]; then \
	  echo "explore-sram: EXPLORE_OPERANDS=per-layer is not supported (one error model for every layer: trace, trace-rows or uniform)" >&2; exit 2; fi
	@$(MAKE) --no-print-directory explore EXPLORE_TOOL=sram \
	  EXPLORE_OPERANDS=$(if $(filter command line environment,$(origin EXPLORE_OPERANDS)),$(EXPLORE_OPERANDS),trace)

explore: setup
	@mkdir -p $(dir $(EXPLORE_PE_CFG))
	@tmp=$(EXPLORE_PE_CFG).tmp.$$$$; python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c.pop("razor",None); json.dump(c,open(sys.argv[2],"w"),indent=1)' \
	  $(EXPLORE_CFG) $$tmp && \
	  { cmp -s $$tmp $(EXPLORE_PE_CFG) && rm $$tmp || mv $$tmp $(EXPLORE_PE_CFG); }
	@pe_dir=$$($(MAKE) -s --no-print-directory flow-dir CONFIG=$(EXPLORE_PE_CFG) PDK=$(EXPLORE_PDK) \
	  VOLTAGES=$(call commas,$(EXPLORE_VOLTAGES)) CORNERS= PERIOD_NS=$(PERIOD_NS)); \
	operands=uniform:1; patterns=16; \
	if [ "$(EXPLORE_OPERANDS)" = trace ] || [ "$(EXPLORE_OPERANDS)" = trace-rows ]; then \
	  trace=$$(flow/explore_trace.sh $(VOSA) $(EXPLORE_PE_CFG) $(MODEL_FILE) $(DATA) $(INPUT_ENCODING) \
	    $$pe_dir/traces/$(MODEL_NAME) $(if $(filter trace-rows,$(EXPLORE_OPERANDS)),all,bottom)) || exit 1; \
	  operands=trace:$$trace; patterns=4096; \
	elif [ "$(EXPLORE_OPERANDS)" = per-layer ]; then \
	  trace=$$(flow/explore_trace.sh $(VOSA) $(EXPLORE_PE_CFG) $(MODEL_FILE) $(DATA) $(INPUT_ENCODING) \
	    $$pe_dir/traces/$(MODEL_NAME) all $(EXPLORE_LAYER_RECORDS) $(EXPLORE_LAYER_INPUTS)) || exit 1; \
	  rows=$$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" $(EXPLORE_PE_CFG)); \
	  operands=trace:$${trace//\{row\}/$$((rows - 1))}; patterns=4096; \
	elif [ "$(EXPLORE_OPERANDS)" != uniform ]; then echo "EXPLORE_OPERANDS is per-layer, trace, trace-rows or uniform" >&2; exit 2; fi; \
	char_dir=$$pe_dir; char_knobs="VOLTAGES=$(call commas,$(EXPLORE_VOLTAGES)) CORNERS="; \
	if [ -n "$(OPERATING_CORNER)" ]; then \
	  oc_corners=$$($(VOSA) pdk corners --pdk $(EXPLORE_PDK) --ladder $(OPERATING_CORNER) \
	    --voltages $(call commas,$(EXPLORE_VOLTAGES)) | paste -sd,) || exit 1; \
	  char_knobs="VOLTAGES= CORNERS=$$oc_corners"; \
	  char_dir=$$($(MAKE) -s --no-print-directory flow-dir CONFIG=$(EXPLORE_PE_CFG) PDK=$(EXPLORE_PDK) \
	    CORNERS=$$oc_corners VOLTAGES= PERIOD_NS=$(PERIOD_NS)); \
	  $(MAKE) --no-print-directory sta CONFIG=$(EXPLORE_PE_CFG) PDK=$(EXPLORE_PDK) \
	    VOLTAGES=$(call commas,$(EXPLORE_VOLTAGES)) CORNERS= BUILD=$(BUILD) || exit 1; \
	fi; \
	$(MAKE) --no-print-directory sta power characterize CONFIG=$(EXPLORE_PE_CFG) PDK=$(EXPLORE_PDK) \
	  $$char_knobs BUILD=$(BUILD) OPERANDS=$$operands DTA_PATTERNS=$$patterns DTA_ENERGY=1 || exit 1; \
	layer_models=; \
	if [ "$(EXPLORE_OPERANDS)" = per-layer ]; then \
	  layer_models=$$char_dir/errmodel-layers/$(MODEL_NAME); \
	  env $$char_knobs VOSA=$(VOSA) BUILD=$(BUILD) FLOW_DIR=$$char_dir PDK=$(EXPLORE_PDK) \
	    DESIGN_DIR=$$(dirname $$pe_dir)/design DTA_DELAY_MODE=$(DTA_DELAY_MODE) DTA_SETUP=$(DTA_SETUP) \
	    DTA_THREADS=$(DTA_THREADS) BANDS=$(EXPLORE_BANDS) flow/explore_layers.sh $$pe_dir/traces/$(MODEL_NAME) $$layer_models \
	    $(EXPLORE_LAYER_RECORDS) || exit 1; \
	fi; \
	$(VOSA) energy-table --errmodel $$char_dir/errmodel/errmodel.json --energy $$char_dir/power/energy.json \
	  --out $$char_dir/power/energy_simulated.json || exit 1; \
	flow/razor_cost_has.py $(BUILD)/razor_cost/razor_cost.json $(EXPLORE_PDK) $(EXPLORE_CFG) || \
	  $(MAKE) --no-print-directory razor-cost RAZOR_COST_PDKS=$(EXPLORE_PDK) RAZOR_COST_CTRL_CONFIG=$(EXPLORE_CFG) \
	  BUILD=$(BUILD) || exit 1; \
	echo "explore: error model and energy of the PE from $$char_dir$(if $(OPERATING_CORNER), (operating corner $(OPERATING_CORNER)); DVFS point from $$pe_dir)"; \
	$(if $(filter slurm,$(LAUNCHER)),flow/explore_slurm.sh $(EXPLORE_WORKERS) $(EXPLORE_WORKER_THREADS) $(EXPLORE_OUT).slurm.log) \
	$(if $(filter sram,$(EXPLORE_TOOL)),$(EXPLORE_SRAM_CMD),$(EXPLORE_CMD))

help-explore:
	@echo "  make explore     X-TPU / Rathore / ThUnderVolt voltage and Razor-bit selection on MODEL under BUDGET"
	@echo "                   -> build/<config>-<hash>/<pdk>/explore/<model>[-<corner>][-t<PERIOD_NS>ns]/ (points.json, report.md, chosen/)"
	@echo "                   knobs: CONFIG= PDK= MODEL= DATA= BUDGET= N= REPEATS= EXPLORE_VOLTAGES= EXPLORE_OPERANDS= EXPLORE_BANDS= EXPLORE_ARGS="
	@echo "                   OPERATING_CORNER=tt_025C (errors and energy on typical silicon; clock and DVFS point at sign-off)"
	@echo "  make explore-sram island voltages and the weight SRAM supply together under BUDGET (timing errors + SRAM"
	@echo "                   fault maps of EXPLORE_SRAM_CHIPS chips) -> build/.../explore/<model>...-sram/joint.json, joint.log"
	@echo "                   knobs: as explore, EXPLORE_SRAM_VOLTAGES= EXPLORE_SRAM_CHIPS= SRAM_BER_CURVE= EXPLORE_SRAM_ARGS="
