# make reuse: computation reuse on the DS-CNN keyword-spotting stream (docs/reuse.md,
# issue 20): uniform widths and the per-channel widths of the criticality analysis,
# chosen on the first REUSE_CALIBRATION clips and evaluated on the rest (held out).
# Writes $(BUILD)/reuse/report.md and one log per run. Run time: see docs/reuse.md.
REUSE_CALIBRATION ?= 200
REUSE_BUDGET      ?= 1
REUSE_STRIDE      ?= 4
REUSE_UNIFORM_Q   ?= 8 7 6 5
REUSE_ARGS        ?= --sensitivity-windows 32 --max-evaluations 60
REUSE_LAYER_Q     ?= 4=5,5=5,6=5,7=5,8=5,11=5
REPORT_ONLY       ?= 0

# make reuse-energy: the reuse array (config "reuse": true) in Verilator on the stream,
# bit-exact against the delta engine, and the energy of its gated PE from simulated
# activity against the ungated delta PE and the plain int8 PE (flow/reuse_energy.sh).
REUSE_ENERGY_PDK     ?= sky130hd
REUSE_ENERGY_WINDOWS ?= 3
REUSE_ENERGY_CLIPS   ?= 3
REUSE_ENERGY_Q       ?= 8
REUSE_ENERGY_CONFIG  ?= flow/configs/reuse_8x8.json

.PHONY: reuse reuse-energy help-reuse
reuse: build
	@VOSA=$(VOSA) OUT=$(BUILD)/reuse DATA=$(VOSA_DATA_DIR) CALIBRATION=$(REUSE_CALIBRATION) \
	  BUDGET=$(REUSE_BUDGET) STRIDE=$(REUSE_STRIDE) UNIFORM_Q="$(REUSE_UNIFORM_Q)" ARGS="$(REUSE_ARGS)" \
	  LAYER_Q="$(REUSE_LAYER_Q)" REPORT_ONLY=$(REPORT_ONLY) \
	  flow/reuse_report.sh

reuse-energy: build
	flow/reuse_energy.sh $(VOSA) $(BUILD) $(BUILD)/reuse-energy/$(REUSE_ENERGY_PDK)-q$(REUSE_ENERGY_Q) \
	  $(REUSE_ENERGY_PDK) $(REUSE_ENERGY_WINDOWS) $(REUSE_ENERGY_CLIPS) $(REUSE_ENERGY_Q) $(REUSE_ENERGY_CONFIG) \
	  flow/configs/reuse_8x8_noiso.json flow/configs/reuse_8x8_ungated.json generator/examples/default.json

help-reuse:
	@echo "  make reuse       computation reuse on the KWS stream: uniform q vs per-channel q (criticality"
	@echo "                   analysis on REUSE_CALIBRATION=$(REUSE_CALIBRATION) clips, REUSE_BUDGET=$(REUSE_BUDGET) points),"
	@echo "                   held-out accuracy with CIs, MACs and array cycles -> $(BUILD)/reuse/report.md"
	@echo "  make reuse-energy  the reuse array (REUSE_ENERGY_CONFIG) bit-exact in Verilator on REUSE_ENERGY_WINDOWS"
	@echo "                   stream windows, and its gated PE's energy from simulated activity (REUSE_ENERGY_PDK)"
	@echo "                   vs the ungated and plain PEs -> $(BUILD)/reuse-energy/<pdk>-q<Q>/report.md"
