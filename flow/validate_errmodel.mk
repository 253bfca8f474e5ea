# Fidelity of the error model on real layers: the gate-level timing
# simulator runs held-out layers' operand streams (whole-layer samples, PE
# rows VALIDATE_ROWS) of ResNet-8, DS-CNN and MobileNetV2, and injection from
# error models (uniform-operand; fitted on another layer of the same network,
# bottom-row PE or one band per row; whole-point and per operand class) runs
# the same cycles; flow/validate_errmodel.sh writes the comparison to
# $(VALIDATE_DIR)/validate-errmodel/report.{json,md} (the flow folder of
# VALIDATE_PDK and VALIDATE_VOLTAGES, Makefile's flow_dir). Knobs:
#   PDK=                     default sky130hd for this target
#   VALIDATE_VOLTAGES=1.60,1.44,1.28   voltages (corners of the PDK's ladder, or interpolated)
#   VALIDATE_CASES="net:TRAIN:TEST,TEST,TEST ..."  networks (resnet8 dscnn mobilenetv2), the layer
#                            the models are fitted on, the held-out layers (operator indices)
#   VALIDATE_ROWS="0 3 7"    PE rows of the ground truth (default: the top row, rows/2-1, the bottom row)
#   VALIDATE_RECORDS=24000   trace records per layer and PE (a longer layer is sampled from every tile pass)
#   VALIDATE_INPUTS=4        inputs per stream: the ground truth on inputs 0..3, kind per-layer fitted on 4..7
#   VALIDATE_SEEDS=100 VALIDATE_PATTERNS=4096
#   VALIDATE_TOLERANCE=0.25 VALIDATE_BIT_FACTOR=1.5   agreement (docs/errmodel.md)
VALIDATE_PDK       := $(if $(filter command line environment,$(origin PDK)),$(PDK),sky130hd)
VALIDATE_VOLTAGES  ?= 1.60,1.44,1.28
VALIDATE_CASES     ?= resnet8:op5:op9,op2,op1 dscnn:op4:op2,op8 dscnn:op5:op3 mobilenetv2:op13:op9,op20 mobilenetv2:op12:op15
VALIDATE_ROWS      ?=
VALIDATE_RECORDS   ?= 24000
VALIDATE_INPUTS    ?= 4
VALIDATE_SEEDS     ?= 100
VALIDATE_PATTERNS  ?= 4096
VALIDATE_TOLERANCE ?= 0.25
VALIDATE_BIT_FACTOR ?= 1.5
VALIDATE_DIR        = $(call flow_dir,$(CONFIG),$(VALIDATE_PDK),,$(VALIDATE_VOLTAGES),$(PERIOD_NS))
validate_net        = $(DNN_MODEL_$(1))|$(DNN_DATA_$(1))|$(or $(DNN_ENCODING_$(1)),auto)

.PHONY: validate-errmodel help-validate-errmodel

validate-errmodel: rtl
	@$(MAKE) --no-print-directory sdf PDK=$(VALIDATE_PDK) VOLTAGES=$(call commas,$(VALIDATE_VOLTAGES)) CORNERS=
	@VOSA=$(VOSA) BUILD=$(BUILD) FLOW_DIR=$(VALIDATE_DIR) PDK=$(VALIDATE_PDK) DESIGN_DIR=$(DESIGN_DIR) \
	  VOLTAGES=$(call commas,$(VALIDATE_VOLTAGES)) CASES="$(VALIDATE_CASES)" ROWS="$(VALIDATE_ROWS)" \
	  NET_resnet8="$(call validate_net,resnet8)" NET_dscnn="$(call validate_net,dscnn)" \
	  NET_mobilenetv2="$(call validate_net,mobilenetv2)" RECORDS=$(VALIDATE_RECORDS) INPUTS=$(VALIDATE_INPUTS) SEEDS=$(VALIDATE_SEEDS) THREADS=$(JOBS) \
	  PATTERNS=$(VALIDATE_PATTERNS) TOLERANCE=$(VALIDATE_TOLERANCE) BIT_FACTOR=$(VALIDATE_BIT_FACTOR) flow/validate_errmodel.sh

help-validate-errmodel:
	@echo "  make validate-errmodel  error models vs gate-level simulation on held-out layers of ResNet-8, DS-CNN,"
	@echo "                     MobileNetV2 (validate-errmodel/report.md); knobs: VALIDATE_VOLTAGES= VALIDATE_CASES= VALIDATE_ROWS= VALIDATE_INPUTS="
	@echo "  make validate-network  ResNet-8 top-1 with injected errors: engine vs the Verilated array (make layers), per-layer"
	@echo "                     models, at NETWORK_VOLTAGES (1.72 1.60), NETWORK_N=200 inputs (validate-network/report.md)"

# Whole network (docs/errmodel.md, "Whole network"): ResNet-8 top-1 with errors
# injected by the engine against the Verilated array with its per-PE error
# source (make layers SETTINGS=), per-layer error models (as make explore's
# default) of CONFIG's PE, every layer at each of NETWORK_VOLTAGES (default
# 1.72 V, the first-failure level of explore's 40 mV grid below the error-free
# sign-off 1.76 V, interpolated, and the heavy 1.60 V, the first ladder corner
# below sign-off) in their own flow folder; flow/validate_network.sh writes
# validate-network/report.{json,md} there.
#   NETWORK_VOLTAGES="1.72 1.60"   NETWORK_N=200 (inputs)
NETWORK_VOLTAGES ?= 1.72 1.60
NETWORK_N        ?= 200
NETWORK_FLOW_DIR  = $(call flow_dir,$(CONFIG),$(VALIDATE_PDK),,$(NETWORK_VOLTAGES),$(PERIOD_NS))
NETWORK_DIR       = $(NETWORK_FLOW_DIR)/validate-network

.PHONY: validate-network
validate-network: rtl
	@$(MAKE) --no-print-directory sdf PDK=$(VALIDATE_PDK) VOLTAGES=$(call commas,$(NETWORK_VOLTAGES)) CORNERS=
	@VOSA=$(VOSA) BUILD=$(BUILD) FLOW_DIR=$(NETWORK_FLOW_DIR) PDK=$(VALIDATE_PDK) DESIGN_DIR=$(DESIGN_DIR) CONFIG_FILE=$(CONFIG) \
	  VOLTAGES="$(call spaces,$(NETWORK_VOLTAGES))" MODEL_FILE=$(DNN_MODEL_resnet8) DATA=$(DNN_DATA_resnet8) \
	  ENCODING=$(DNN_ENCODING_resnet8) RECORDS=$(EXPLORE_LAYER_RECORDS) INPUTS=$(EXPLORE_LAYER_INPUTS) \
	  DTA_DELAY_MODE=$(DTA_DELAY_MODE) DTA_SETUP=$(DTA_SETUP) DTA_THREADS=$(DTA_THREADS) OUT=$(NETWORK_DIR) \
	  flow/validate_network.sh models
	@for v in $(call spaces,$(NETWORK_VOLTAGES)); do \
	  echo "validate-network: $$v V: make layers MODEL=resnet8 N=$(NETWORK_N) SETTINGS=$(NETWORK_DIR)/settings_$$v.json"; \
	  $(MAKE) --no-print-directory layers MODEL=resnet8 N=$(NETWORK_N) SETTINGS=$(NETWORK_DIR)/settings_$$v.json \
	    > $(NETWORK_DIR)/layers_$$v.log 2>&1 || { tail -30 $(NETWORK_DIR)/layers_$$v.log; exit 1; }; \
	done
	@VOLTAGES="$(call spaces,$(NETWORK_VOLTAGES))" OUT=$(NETWORK_DIR) flow/validate_network.sh report
