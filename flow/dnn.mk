# Real DNNs: the bit-exact int8 reference engine (vosa infer) and every
# conv/depthwise/FC layer of a model on the generated array in Verilator
# (docs/dnn.md). Included by the top-level Makefile. Knobs:
#   MODEL=resnet8|dscnn|mobilenetv2|<path/to/model.tflite>   (default resnet8)
#   DATA=<data directory>       (default: the model's folder in $(VOSA_DATA_DIR)/dnn)
#   N=<inputs>                  make layers: inputs through the array (default 2);
#                               make infer: 0 = the whole data set (default)
#   INPUT_ENCODING=auto|raw|pixels  how .bin bytes map onto the input (default: per
#                               model; auto for a file: vosa infer --help)
#   TRACE_PE=ROW,COL            make layers: also write per-layer operand traces
#                               of that PE to build/<config>-<hash>/layers/traces/
#   SETTINGS=schedule.json      make layers: inject timing errors as this schedule
#                               says (per-layer island voltages; docs/inject.md), e.g.
#                               the one `make explore` chose; or
#   ERRMODEL=errmodel.json      from this error model at these island voltages
#   ISLAND_VOLTAGES=V[,V...]    for every layer (commas or spaces); then compare with the engine's
#                               injector on the same inputs (docs/dnn.md)
#   DEPTHWISE=auto|channels|spatial|mode  make layers: how depthwise layers map onto the array
#                               (default: the array's depthwise mode when CONFIG has "depthwise", else
#                               auto, the GEMM mapping of fewer cycles; docs/dnn.md, "Depthwise mapping")
#   LAYERS="OP OP"              make layers: only these operators on the array, the rest in
#                               the engine (for large arrays, e.g. 256x256)
#   SRAM_MAP=map.csv SRAM_BER=B make layers: a CONFIG with "buffers" reads its weights through
#                               this fault map of its weight buffer at BER B (Verilator built with
#                               VOSA_SRAM_FAULTS), bit for bit against the engine (docs/sram.md)
#   MODE=<index>                make layers: precision mode of every layer (a CONFIG with
#   LAYER_MODES="OP=M ..."      precision_modes), per-operator overrides (docs/precision.md)
MODEL ?= resnet8
DNN_ROOT := $(VOSA_DATA_DIR)/dnn
DNN_MODEL_resnet8     := $(DNN_ROOT)/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite
DNN_DATA_resnet8      := $(DNN_ROOT)/ic_resnet8_cifar10/data/ic01
DNN_ENCODING_resnet8  := pixels
DNN_MODEL_dscnn       := $(DNN_ROOT)/kws_dscnn_speechcommands/model/kws_ref_model.tflite
DNN_DATA_dscnn        := $(DNN_ROOT)/kws_dscnn_speechcommands/data/kws01
DNN_MODEL_mobilenetv2 := $(DNN_ROOT)/mobilenetv2_imagenet/model/tf2_mobilenet_v2_1.0_224_ptq.tflite
DNN_DATA_mobilenetv2  := $(DNN_ROOT)/mobilenetv2_imagenet/data/ILSVRC2012_VAL_SET
DNN_MODELS    := resnet8 dscnn mobilenetv2
MODEL_FILE     = $(or $(DNN_MODEL_$(MODEL)),$(MODEL))
# A target that runs MODEL says so at once when MODEL is neither a known name
# nor a file, or has no data set, instead of a confusing vosa usage error.
ifneq ($(filter infer layers explore validate-errmodel validate-network bench-infer sram-eval,$(MAKECMDGOALS)),)
ifeq ($(DNN_MODEL_$(MODEL))$(wildcard $(MODEL)),)
$(error MODEL=$(MODEL) is neither a known model ($(DNN_MODELS)) nor a .tflite file)
endif
ifeq ($(strip $(or $(DATA),$(DNN_DATA_$(MODEL)))),)
$(error MODEL=$(MODEL) has no default data set: give DATA=<directory with y_labels.csv or dataset_1001.txt>)
endif
endif
MODEL_NAME     = $(basename $(notdir $(MODEL)))
DATA          ?= $(DNN_DATA_$(MODEL))
INPUT_ENCODING ?= $(or $(DNN_ENCODING_$(MODEL)),auto)
TRACE_PE      ?=
SETTINGS      ?=
ERRMODEL      ?=
ISLAND_VOLTAGES ?=
LAYERS_INJECT = $(or $(SETTINGS),$(ERRMODEL))
LAYERS_DIR     = $(CONFIG_DIR)/layers

.PHONY: infer layers bench-infer bench-layers bench-inject bench-dnn help-dnn tflite-golden tflite-runtime

infer: setup
	$(VOSA) infer --model $(MODEL_FILE) --data $(DATA) --input-encoding $(INPUT_ENCODING) \
	  $(if $(filter-out 0,$(N)),--limit $(N)) --jobs $(JOBS)

layers: rtl
	@mkdir -p $(LAYERS_DIR)
	$(if $(LAYERS_INJECT),INJECT=1) $(if $(SRAM_MAP),SRAM_FAULTS=1) testbench/layers/run_layers.sh $(DESIGN_DIR) \
	  $(LAYERS_DIR)/obj$(if $(LAYERS_INJECT),-inject)$(if $(SRAM_MAP),-sram) \
	  $(BUILD) --model $(MODEL_FILE) --data $(DATA) --input-encoding $(INPUT_ENCODING) -n $(or $(N),2) \
	  $(if $(TRACE_PE),--trace-dir $(LAYERS_DIR)/traces/$(MODEL_NAME) --trace-pe $(TRACE_PE)) \
	  $(if $(SETTINGS),--settings $(SETTINGS),$(if $(ERRMODEL),--errmodel $(ERRMODEL) --voltages $(call commas,$(ISLAND_VOLTAGES)))) \
	  $(if $(MODE),--mode $(MODE)) $(foreach m,$(LAYER_MODES),--layer-mode $(m)) \
	  $(if $(DEPTHWISE),--depthwise $(DEPTHWISE)) $(if $(LAYERS),--layers $(call commas,$(LAYERS))) \
	  $(if $(SRAM_MAP),--sram-faults $(SRAM_MAP) --sram-ber $(or $(SRAM_BER),$(error SRAM_MAP needs SRAM_BER=))) \
	  2>&1 | tee $(LAYERS_DIR)/$(MODEL_NAME)$(if $(LAYERS_INJECT),-inject).log; exit $${PIPESTATUS[0]}

# Rathore et al.'s array size (docs/PERFORMANCE.md, "256x256 in Verilator"): MobileNetV2's
# last two pointwise convolutions (operators 61, 62) and its classifier (64) on the tiled
# 256x256 array, bit-exact against the engine, then again with timing errors injected from
# the hand-written fixture model (tests/dnn/configs/errmodel_fixture_acc24.json at 0.95 V: the
# mechanism, not real rates), checked against the replay of every injected error and
# against the engine's injector layer by layer.
LAYERS_256_CONFIG := testbench/layers/configs/ws_256x256.json
.PHONY: layers-256x256
layers-256x256:
	$(MAKE) layers CONFIG=$(LAYERS_256_CONFIG) MODEL=mobilenetv2 N=1 LAYERS="61 62 64"
	$(MAKE) layers CONFIG=$(LAYERS_256_CONFIG) MODEL=mobilenetv2 N=1 LAYERS="61 62 64" \
	  ERRMODEL=tests/dnn/configs/errmodel_fixture_acc24.json ISLAND_VOLTAGES=0.95

# TensorFlow Lite itself (npm, into the build tree) and MODEL run by both TFLite
# and vosa infer: every output identical, and every tensor of the first
# TENSORS inputs (docs/dnn.md, "Bit-exact with TFLite").
TENSORS ?= 0
tflite-runtime:
	scripts/tflite_runtime.sh $(BUILD)/tflite-runtime

tflite-golden: setup
	VOSA=$(VOSA) VOSA_TFLITE_RUNTIME=$(abspath $(BUILD))/tflite-runtime scripts/tflite_golden.sh $(MODEL_FILE) $(DATA) \
	  $(if $(filter pixels,$(INPUT_ENCODING)),--pixels) $(if $(filter-out 0,$(N)),--limit $(N)) --tensors $(TENSORS)

# Engine throughput and accuracy on the three staged models (both cores).
bench-infer: setup
	testbench/layers/bench_infer.sh $(VOSA) $(DNN_ROOT) $(BUILD)/bench/infer.txt

# Verilator MAC/s on real layers: 16x16 and 32x32 arrays.
bench-layers: setup
	testbench/layers/bench_layers.sh $(VOSA) $(BUILD) $(DNN_ROOT) $(BUILD)/bench/layers.txt

bench-dnn: bench-infer bench-layers bench-inject

# Error-injecting inference, MobileNetV2 images/s at three error rates
# (Google Benchmark; BENCH_INJECT_N= images, default 16; 2 threads).
BENCH_INJECT_N ?= 16
bench-inject: setup
	@mkdir -p $(BUILD)/bench
	$(BUILD)/testbench/inject/vosa_bench_inject $(DNN_MODEL_mobilenetv2) $(DNN_DATA_mobilenetv2) \
	  generator/examples/explore_16x16.json $(BENCH_INJECT_N) --benchmark_min_time=1 | tee $(BUILD)/bench/inject.txt

help-dnn:
	@echo "  make infer       accuracy of MODEL on its data set with the bit-exact int8 engine (vosa infer)"
	@echo "  make layers      every conv/FC layer of MODEL through CONFIG's array in Verilator, bit-exact"
	@echo "                   (SETTINGS=schedule.json or ERRMODEL= ISLAND_VOLTAGES=: with injected timing errors)"
	@echo "                   (DEPTHWISE=auto|channels|spatial|mode: how depthwise layers map onto the array, mode:"
	@echo "                   the depthwise mode of a CONFIG with \"depthwise\", e.g. testbench/layers/configs/ws_16x16_dw3.json; a CONFIG"
	@echo "                   with a \"tile\" builds one tile, e.g. testbench/layers/configs/ws_256x256.json; LAYERS=\"62 64\":"
	@echo "                   only those operators on the array)"
	@echo "                   (SRAM_MAP=map.csv SRAM_BER=B: a CONFIG with \"buffers\" reads its weights through this"
	@echo "                   fault map of its weight buffer, bit for bit against the engine; docs/sram.md)"
	@echo "  make layers-256x256  MobileNetV2 operators 61, 62, 64 on the tiled 256x256 array, error-free and"
	@echo "                   with injected errors (fixture model), against the engine (each build under 20 min)"
	@echo "  make tflite-golden  MODEL run by TensorFlow Lite itself and by vosa infer: every output identical"
	@echo "                   (N= inputs, TENSORS=k: also every operator's tensor on the first k)"
	@echo "  make tflite-runtime  install the pinned TFLite runtime (npm @tensorflow/tfjs-tflite) into build/"
	@echo "  make bench-infer / bench-layers   engine GMAC/s, Verilator MAC/s -> docs/PERFORMANCE.md (both: make bench-dnn)"
	@echo "  make bench-inject  MobileNetV2 images/s with injected errors at none/moderate/heavy rates (BENCH_INJECT_N=)"
	@echo "  DNN knobs: MODEL=resnet8|dscnn|mobilenetv2|file.tflite DATA= N= INPUT_ENCODING= TRACE_PE=r,c"
