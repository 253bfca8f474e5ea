# File-level rules of the synthesis/STA flow, run by flow/flow.mk as a
# sub-make (so vosa exists when the corner list is computed). Artefacts:
#   $(P)/synth/pe_netlist.v, synth.log, stat.txt
#   $(P)/sta/<corner>.paths.tsv + <corner>.log, critical_path.txt, bit_timing.json
#   $(P)/sdf/<corner>.sdf
#   $(P)/power/<corner>.power.tsv, energy.json
# Reruns are incremental: stamps change only when their content changes.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:

# FLOW_DIR: the Makefile's flow_dir (config, PDK and sweep keyed); scripts
# that run this file directly give BUILD and CONFIG_NAME instead.
P         := $(or $(FLOW_DIR),$(BUILD)/$(CONFIG_NAME)/$(PDK))
PDK_CACHE := $(BUILD)/pdk
MANIFEST  := $(DESIGN_DIR)/manifest.json
NETLIST   := $(P)/synth/pe_netlist.v
PDK_TCL   := $(P)/pdk.tcl
FLOW      := $(ROOT)/flow
PATHS_PER_BIT ?= 5
# Commands are echoed only with V=1 (their own messages always show).
Q          = $(if $(filter-out 0,$(V)),,@)

# Fail early, with vosa's message, on an unknown PDK or a broken config.
PDK_JSON := $(shell $(VOSA) pdk path --pdk $(PDK) 2>$(BUILD)/.pdk_error)
ifeq ($(PDK_JSON),)
$(error $(shell cat $(BUILD)/.pdk_error))
endif
SIGNOFF  := $(shell $(VOSA) pdk get --pdk $(PDK) signoff_corner)
comma := ,
space := $(subst ,, )
# Space- or comma-separated, both lists.
# `override`: a CORNERS= given to the top-level make reaches this sub-make as a
# command-line variable, which would otherwise replace the computed list.
override CORNERS := $(subst $(comma),$(space),$(REQUESTED_CORNERS))
VOLTAGE_LIST := $(subst $(space),$(comma),$(strip $(subst $(comma),$(space),$(VOLTAGES))))
ifneq ($(strip $(VOLTAGES)),)
override CORNERS := $(shell $(VOSA) pdk corners --pdk $(PDK) --voltages $(VOLTAGE_LIST) 2>$(BUILD)/.pdk_error || echo FAILED)
ifneq ($(filter FAILED,$(CORNERS)),)
$(error $(shell cat $(BUILD)/.pdk_error))
endif
endif
ifeq ($(strip $(CORNERS)),)
override CORNERS := $(shell $(VOSA) pdk corners --pdk $(PDK))
endif
CORNER_LIST := $(subst $(space),$(comma),$(strip $(CORNERS)))
OUTPUT_REG = $(shell sed -n 's/.*"pe_output_register": *"\([^"]*\)".*/\1/p' $(MANIFEST))
PE_MODULE  = $(shell sed -n 's/^ *"pe": *"\([^"]*\)".*/\1/p' $(MANIFEST))

PATHS  := $(foreach c,$(CORNERS),$(P)/sta/$(c).paths.tsv)
SDFS   := $(foreach c,$(CORNERS),$(P)/sdf/$(c).sdf)
POWERS := $(foreach c,$(CORNERS),$(P)/power/$(c).power.tsv)

# Write $(2) into file $(1) only when it differs (keeps make incremental).
update_if_changed = mkdir -p $(dir $(1)) && printf '%s\n' $(2) > $(1).new && \
  { cmp -s $(1).new $(1) && rm $(1).new || mv $(1).new $(1); }

.PHONY: all synth sta sdf power synth-array validate-vmodel corners FORCE
corners:
	@echo $(CORNERS)
all: sta sdf power
synth: $(NETLIST)
sta: $(P)/sta/bit_timing.json
	@echo "flow: $(P)/sta/bit_timing.json ($(words $(CORNERS)) corners, period $$(cat $(P)/sta/period_ns.txt) ns)"
sdf: $(SDFS)
	@echo "flow: SDF in $(P)/sdf/"
power: $(P)/power/energy.json
	@echo "flow: $(P)/power/energy.json"

# ---------------------------------------------------------------- synthesis
# Content stamp of everything synthesis reads.
$(P)/synth/inputs.sha: FORCE
	@$(call update_if_changed,$@,"$$(cat $(DESIGN_DIR)/rtl/*.v $(PDK_JSON) $(FLOW)/synth.tcl | sha256sum | cut -c1-64)")

$(PDK_TCL): $(PDK_JSON)
	@mkdir -p $(dir $@)
	$(Q)$(VOSA) pdk tcl --pdk $(PDK) --cache-dir $(PDK_CACHE) > $@.tmp && mv $@.tmp $@

$(NETLIST): $(P)/synth/inputs.sha $(PDK_TCL)
	@echo "flow: synthesizing $(PE_MODULE) on $(PDK) -> $@ (log: $(P)/synth/synth.log)"
	@lib=$$($(VOSA) pdk liberty --pdk $(PDK) --corner $(SIGNOFF) --synth --cache-dir $(PDK_CACHE)) && \
	VOSA_RTL_FILES="$$(ls $(DESIGN_DIR)/rtl/*.v | tr '\n' ' ')" VOSA_TOP=$(PE_MODULE) VOSA_LIBERTY=$$lib \
	VOSA_PDK_TCL=$(PDK_TCL) VOSA_NETLIST=$@.tmp VOSA_ABC_CONSTR=$(P)/synth/abc.constr \
	VOSA_STAT=$(P)/synth/stat.txt yosys -q -l $(P)/synth/synth.log -c $(FLOW)/synth.tcl >/dev/null || \
	  { echo "flow: synthesis failed, see $(P)/synth/synth.log:"; grep -m5 ERROR $(P)/synth/synth.log; exit 1; }
	@mv $@.tmp $@

# ------------------------------------------------------------ clock period
$(P)/sta/critical_path.txt: $(NETLIST) $(PDK_TCL) $(FLOW)/sta_corner.tcl
	@echo "flow: critical path at sign-off corner $(SIGNOFF)"
	@lib=$$($(VOSA) pdk liberty --pdk $(PDK) --corner $(SIGNOFF) --cache-dir $(PDK_CACHE)) && \
	VOSA_LIBERTY=$$lib VOSA_NETLIST=$(NETLIST) VOSA_TOP=$(PE_MODULE) VOSA_PDK_TCL=$(PDK_TCL) \
	VOSA_PERIOD_NS=1000 VOSA_CORNER=$(SIGNOFF) VOSA_CRITICAL_OUT=$@ \
	$(FLOW)/run_sta.sh $(P)/sta/critical_path.log $@

# PERIOD_NS, or the critical path at sign-off rounded up to the next 10 ps.
ifeq ($(strip $(PERIOD_NS)),)
$(P)/sta/period_ns.txt: $(P)/sta/critical_path.txt FORCE
	@$(call update_if_changed,$@,"$$(awk 'NR==1 {p = int($$1 * 100); if (p < $$1 * 100) p++; printf "%.2f", p / 100}' $<)")
	@echo "$(SIGNOFF) critical path rounded up to 10 ps" > $(P)/sta/period_source.txt
else
$(P)/sta/period_ns.txt: FORCE
	@$(call update_if_changed,$@,"$(PERIOD_NS)")
	@echo "PERIOD_NS=$(PERIOD_NS) (user)" > $(P)/sta/period_source.txt
endif

$(P)/sta/corners.txt: FORCE
	@$(call update_if_changed,$@,"$(CORNER_LIST)")

# ------------------------------------------------------ per-corner OpenSTA
# One OpenSTA run per corner writes the per-bit report, the SDF and power.
$(P)/sta/%.paths.tsv $(P)/sdf/%.sdf $(P)/power/%.power.tsv: $(NETLIST) $(P)/sta/period_ns.txt $(PDK_TCL) \
    $(FLOW)/sta_corner.tcl
	@mkdir -p $(P)/sta $(P)/sdf $(P)/power
	@echo "flow: STA $(PDK) $* (period $$(cat $(P)/sta/period_ns.txt) ns)"
	@lib=$$($(VOSA) pdk liberty --pdk $(PDK) --corner $* --netlist $(NETLIST) --cache-dir $(PDK_CACHE)) && \
	VOSA_LIBERTY=$$lib VOSA_NETLIST=$(NETLIST) VOSA_TOP=$(PE_MODULE) VOSA_PDK_TCL=$(PDK_TCL) \
	VOSA_PERIOD_NS=$$(cat $(P)/sta/period_ns.txt) VOSA_CORNER=$* VOSA_OUTPUT_REG=$(OUTPUT_REG) \
	VOSA_PATHS_PER_BIT=$(PATHS_PER_BIT) VOSA_PATHS_OUT=$(P)/sta/$*.paths.tsv VOSA_SDF_OUT=$(P)/sdf/$*.sdf \
	VOSA_POWER_OUT=$(P)/power/$*.power.tsv \
	$(FLOW)/run_sta.sh $(P)/sta/$*.log $(P)/sta/$*.paths.tsv $(P)/sdf/$*.sdf $(P)/power/$*.power.tsv

$(P)/sta/bit_timing.json: $(PATHS) $(P)/sta/corners.txt $(MANIFEST)
	$(Q)$(VOSA) sta-collect --kind timing --pdk $(PDK) --manifest $(MANIFEST) --netlist $(NETLIST) \
	  --corners $(CORNER_LIST) --reports $(P)/sta --period-source "$$(cat $(P)/sta/period_source.txt)" \
	  --out $@ 2>&1 | tee $(P)/sta/collect.log

$(P)/power/energy.json: $(POWERS) $(P)/sta/corners.txt $(MANIFEST)
	$(Q)$(VOSA) sta-collect --kind energy --pdk $(PDK) --manifest $(MANIFEST) --netlist $(NETLIST) \
	  --corners $(CORNER_LIST) --reports $(P)/power --period-source "$$(cat $(P)/sta/period_source.txt)" \
	  --out $@ 2>&1 | tee $(P)/power/collect.log

FORCE:

# ------------------------------------------------ voltage model validation
# Fit the default ladder without VMODEL_HELD, predict VMODEL_HELD, compare
# per-bit arrivals with the characterized corner (and with linear
# interpolation between its ladder neighbours).
VMODEL_HELD ?= ss_n40C_1v40
VMODEL_FIT  ?= ss_n40C_1v28,ss_n40C_1v35,ss_n40C_1v44,ss_n40C_1v60,ss_n40C_1v76
VMODEL_LOW  ?= ss_n40C_1v35
VMODEL_HIGH ?= ss_n40C_1v44
VM := $(P)/vmodel

$(VM)/$(VMODEL_HELD).model.paths.tsv: $(NETLIST) $(P)/sta/period_ns.txt $(PDK_TCL) $(FLOW)/sta_corner.tcl
	@mkdir -p $(VM)
	@echo "flow: voltage model for $(VMODEL_HELD) fitted on $(VMODEL_FIT)"
	@lib=$$($(VOSA) pdk liberty --pdk $(PDK) --corner $(VMODEL_HELD) --fit-corners $(VMODEL_FIT) \
	  --cache-dir $(PDK_CACHE)) && \
	VOSA_LIBERTY=$$lib VOSA_NETLIST=$(NETLIST) VOSA_TOP=$(PE_MODULE) VOSA_PDK_TCL=$(PDK_TCL) \
	VOSA_PERIOD_NS=$$(cat $(P)/sta/period_ns.txt) VOSA_CORNER=$(VMODEL_HELD) VOSA_OUTPUT_REG=$(OUTPUT_REG) \
	VOSA_PATHS_OUT=$@ $(FLOW)/run_sta.sh $(VM)/$(VMODEL_HELD).model.log $@

validate-vmodel: $(VM)/$(VMODEL_HELD).model.paths.tsv $(P)/sta/$(VMODEL_HELD).paths.tsv \
    $(P)/sta/$(VMODEL_LOW).paths.tsv $(P)/sta/$(VMODEL_HIGH).paths.tsv
	$(Q)$(VOSA) vmodel-compare --pdk $(PDK) --reference $(P)/sta/$(VMODEL_HELD).paths.tsv \
	  --predicted $(VM)/$(VMODEL_HELD).model.paths.tsv --low $(P)/sta/$(VMODEL_LOW).paths.tsv \
	  --high $(P)/sta/$(VMODEL_HIGH).paths.tsv --out $(VM)/validation.json 2>&1 | tee $(VM)/validation.log

# ------------------------------------------------- whole-array synthesis
# The generated top (vosa_top: array, skew and de-skew) synthesized flat, for
# the benchmark and area figures. ARRAY_CONFIG picks the array.
ARRAY_CONFIG ?= $(ROOT)/flow/configs/array_16x16.json
ARRAY_NAME   := $(basename $(notdir $(ARRAY_CONFIG)))
ARRAY_DIR    ?= $(BUILD)/$(ARRAY_NAME)
A            := $(ARRAY_DIR)/$(PDK)/synth_array
ARRAY_DESIGN := $(ARRAY_DIR)/design

$(A)/inputs.sha: FORCE
	@mkdir -p $(A)
	@$(VOSA) generate --config $(ARRAY_CONFIG) --out $(A)/design.new --quiet
	@$(call update_if_changed,$@,"$$(cat $(A)/design.new/rtl/*.v $(PDK_JSON) $(FLOW)/synth.tcl $(FLOW)/synth_hier.tcl | sha256sum | cut -c1-64)")

$(A)/array_netlist.v: $(A)/inputs.sha $(PDK_TCL)
	@rm -rf $(ARRAY_DESIGN) && mkdir -p $(dir $(ARRAY_DESIGN)) && cp -r $(A)/design.new $(ARRAY_DESIGN)
	@top=$$(sed -n 's/^ *"top": *"\([^"]*\)".*/\1/p' $(ARRAY_DESIGN)/manifest.json); \
	script=synth.tcl how=flat; \
	if [ -f $(ARRAY_DESIGN)/rtl/vosa_tile.v ]; then script=synth_hier.tcl how="by hierarchy"; fi; \
	echo "flow: synthesizing $$top of $(ARRAY_NAME) on $(PDK) $$how -> $@ (log: $(A)/synth.log)"; \
	lib=$$($(VOSA) pdk liberty --pdk $(PDK) --corner $(SIGNOFF) --synth --cache-dir $(PDK_CACHE)) && \
	VOSA_RTL_FILES="$$(ls $(ARRAY_DESIGN)/rtl/*.v | tr '\n' ' ')" VOSA_TOP=$$top VOSA_LIBERTY=$$lib \
	VOSA_PDK_TCL=$(PDK_TCL) VOSA_NETLIST=$@.tmp VOSA_ABC_CONSTR=$(A)/abc.constr VOSA_PE_NETLIST=$(A)/pe_netlist.v \
	VOSA_STAT=$(A)/stat.txt yosys -q -l $(A)/synth.log -c $(FLOW)/$$script >/dev/null || \
	  { echo "flow: synthesis failed, see $(A)/synth.log:"; grep -m5 ERROR $(A)/synth.log; exit 1; }
	@mv $@.tmp $@
	@grep -E "Number of cells|Chip area" $(A)/stat.txt | tail -2

# A tiled array (config "tile") is synthesized by hierarchy; its area and
# the PEs' power at the sign-off corner go to array_report.{json,md}.
$(A)/array_report.json: $(A)/array_netlist.v $(FLOW)/array_hier_report.sh $(FLOW)/sta_corner.tcl $(PDK_TCL)
	$(Q)$(FLOW)/array_hier_report.sh $(VOSA) $(PDK) $(SIGNOFF) $(PDK_CACHE) $(PDK_TCL) $(A) $(ARRAY_DESIGN)/manifest.json

ARRAY_TILED := $(shell grep -q '"tile"' $(ARRAY_CONFIG) 2>/dev/null && echo 1)
synth-array: $(A)/array_netlist.v $(if $(ARRAY_TILED),$(A)/array_report.json)
