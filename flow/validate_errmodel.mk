# Fidelity of the error model on a real layer (docs/errmodel.md, "Fidelity"):
# the gate-level timing simulator runs a held-out ResNet-8 layer's operand
# stream, and injection from error models (uniform-operand, and fitted on
# another layer, whole-point and per operand class) runs the same cycles;
# flow/validate_errmodel.sh writes the comparison to
# $(VALIDATE_DIR)/validate-errmodel/report.{json,md} (the flow folder of
# VALIDATE_PDK and VALIDATE_VOLTAGES, Makefile's flow_dir). Knobs:
#   PDK=                     default sky130hd for this target
#   VALIDATE_VOLTAGES=1.60,1.44   voltages (corners of the PDK's ladder, or interpolated)
#   VALIDATE_TRAIN=op5       layer the model is fitted on (operator index of MODEL)
#   VALIDATE_TEST="op9 op2 op1"  held-out layers it is checked on
#   VALIDATE_SEEDS=100 VALIDATE_PATTERNS=4096
#   VALIDATE_TOLERANCE=0.25 VALIDATE_BIT_FACTOR=1.5   agreement (docs/errmodel.md)
VALIDATE_PDK       := $(if $(filter command line environment,$(origin PDK)),$(PDK),sky130hd)
VALIDATE_VOLTAGES  ?= 1.60,1.44
VALIDATE_TRAIN     ?= op5
VALIDATE_TEST      ?= op9 op2 op1
VALIDATE_SEEDS     ?= 100
VALIDATE_PATTERNS  ?= 4096
VALIDATE_TOLERANCE ?= 0.25
VALIDATE_BIT_FACTOR ?= 1.5
VALIDATE_DIR        = $(call flow_dir,$(CONFIG),$(VALIDATE_PDK),,$(VALIDATE_VOLTAGES),$(PERIOD_NS))

.PHONY: validate-errmodel help-validate-errmodel

validate-errmodel: rtl
	@$(MAKE) --no-print-directory sdf PDK=$(VALIDATE_PDK) VOLTAGES=$(call commas,$(VALIDATE_VOLTAGES)) CORNERS=
	@VOSA=$(VOSA) BUILD=$(BUILD) FLOW_DIR=$(VALIDATE_DIR) PDK=$(VALIDATE_PDK) DESIGN_DIR=$(DESIGN_DIR) \
	  VOLTAGES=$(call commas,$(VALIDATE_VOLTAGES)) MODEL_FILE=$(MODEL_FILE) DATA=$(DATA) INPUT_ENCODING=$(INPUT_ENCODING) \
	  TRAIN="$(VALIDATE_TRAIN)" TEST="$(call spaces,$(VALIDATE_TEST))" SEEDS=$(VALIDATE_SEEDS) \
	  PATTERNS=$(VALIDATE_PATTERNS) TOLERANCE=$(VALIDATE_TOLERANCE) BIT_FACTOR=$(VALIDATE_BIT_FACTOR) flow/validate_errmodel.sh

help-validate-errmodel:
	@echo "  make validate-errmodel  error model vs gate-level simulation on a held-out ResNet-8 layer"
	@echo "                     (validate-errmodel/report.md); knobs: VALIDATE_VOLTAGES= VALIDATE_TRAIN= VALIDATE_TEST="
