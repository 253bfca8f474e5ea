# Precision modes (Pagliari et al.; docs/precision.md): per-mode
# characterization of the PE and the dynamic bit-width report. Knobs:
#   CONFIG=   an array config with precision_modes (default flow/configs/precision_8x8.json)
#   PDK=      default sky130hd here (a voltage ladder of characterized corners)
#   PERIOD_NS= the fixed clock (default: the PE's critical path at the sign-off corner)
#   VOLTAGES= supply voltages to characterize (default: the PDK's corner ladder; others are
#             interpolated corners, labelled so)
#   PRECISION_CYCLES=20000   dta cycles per mode and corner
#   PRECISION_TRACE=resnet8:5:7,0   model:operator:PE of the real layer stream
#   BUDGET=1  top-1 loss allowed on the calibration split (points)
#   BITWIDTH_MODELS="resnet8 dscnn mobilenetv2"  BITWIDTH_N_<model>= inputs (0 = all)
precision_cmdline = $(filter command line environment,$(origin $(1)))
PRECISION_CONFIG  = $(if $(call precision_cmdline,CONFIG),$(CONFIG),flow/configs/precision_8x8.json)
PRECISION_PDK     = $(if $(call precision_cmdline,PDK),$(PDK),sky130hd)
PRECISION_CYCLES ?= 20000
PRECISION_TRACE  ?= resnet8:5:7,0
PRECISION_BUDGET  = $(if $(call precision_cmdline,BUDGET),$(BUDGET),1)
PRECISION_DIR     = $(BUILD)/precision/$(basename $(notdir $(PRECISION_CONFIG)))-$(PRECISION_PDK)$(if $(PERIOD_NS),-$(PERIOD_NS)ns)$(if $(VOLTAGES),-v$(subst $(comma),_,$(call commas,$(VOLTAGES))))
BITWIDTH_MODELS  ?= resnet8 dscnn mobilenetv2
BITWIDTH_N_resnet8     ?= 0
BITWIDTH_N_dscnn       ?= 0
BITWIDTH_N_mobilenetv2 ?= 600
precision_trace = $(word $(1),$(subst :, ,$(PRECISION_TRACE)))

.PHONY: precision-characterize bitwidth help-precision

precision-characterize: setup
	@VOSA=$(abspath $(VOSA)) BUILD=$(abspath $(BUILD)) ROOT=$(CURDIR) MAKE="$(MAKE)" PDK=$(PRECISION_PDK) \
	  CONFIG=$(abspath $(PRECISION_CONFIG)) MODEL_FILE=$(DNN_MODEL_$(call precision_trace,1)) \
	  DATA=$(DNN_DATA_$(call precision_trace,1)) INPUT_ENCODING=$(or $(DNN_ENCODING_$(call precision_trace,1)),auto) \
	  TRACE_OP=$(call precision_trace,2) TRACE_PE=$(call precision_trace,3) DTA_CYCLES=$(PRECISION_CYCLES) \
	  PERIOD_NS=$(PERIOD_NS) VOLTAGES="$(call commas,$(VOLTAGES))" JOBS=$(JOBS) OUT=$(PRECISION_DIR) flow/precision_characterize.sh

# Static best width vs dynamic policy vs dynamic + per-mode voltage on each
# model; report.md per model and one summary (docs/RESULTS.md quotes it).
bitwidth: precision-characterize
	@set -e; for m in $(BITWIDTH_MODELS); do \
	  $(VOSA) bitwidth --model $$( $(MAKE) -s --no-print-directory bitwidth-model-file MODEL=$$m ) \
	    --data $$( $(MAKE) -s --no-print-directory bitwidth-data MODEL=$$m ) \
	    --input-encoding $$( $(MAKE) -s --no-print-directory bitwidth-encoding MODEL=$$m ) --model-name $$m \
	    --modes $$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['precision_modes'])))" $(PRECISION_CONFIG)) \
	    --energy $(PRECISION_DIR)/precision_energy.json --budget $(PRECISION_BUDGET) -j $(JOBS) \
	    -n $$( $(MAKE) -s --no-print-directory bitwidth-n MODEL=$$m ) -o $(PRECISION_DIR)/bitwidth/$$m \
	    > $(PRECISION_DIR)/bitwidth-$$m.log; \
	  cat $(PRECISION_DIR)/bitwidth/$$m/report.md; done
	@echo "bitwidth: reports in $(PRECISION_DIR)/bitwidth/<model>/report.md"

.PHONY: bitwidth-model-file bitwidth-data bitwidth-encoding bitwidth-n
bitwidth-model-file: ; @echo $(MODEL_FILE)
bitwidth-data: ; @echo $(DATA)
bitwidth-encoding: ; @echo $(INPUT_ENCODING)
bitwidth-n: ; @echo $(or $(BITWIDTH_N_$(MODEL)),0)

help-precision:
	@echo "  make precision-characterize  per precision mode of CONFIG (default flow/configs/precision_8x8.json):"
	@echo "                   lowest error-free voltage and energy/MAC from the simulated activity (vosa dta --mode"
	@echo "                   --energy on the gated PE, real-layer stream) at a fixed clock on PDK (default sky130hd)"
	@echo "                   -> build/precision/.../precision_energy.json"
	@echo "  make bitwidth    dynamic bit-width (Pagliari et al.) on resnet8/dscnn/mobilenetv2: static best vs"
	@echo "                   dynamic vs dynamic + per-mode voltage (vosa bitwidth; BUDGET= BITWIDTH_MODELS=)"
