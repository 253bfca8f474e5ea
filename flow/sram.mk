# On-chip SRAM at low voltage (docs/sram.md): accuracy with the weights read
# through faulty weight-buffer cells, over many simulated chips. Included by
# the top-level Makefile; MODEL, DATA, N, INPUT_ENCODING as in flow/dnn.mk.
#   SRAM_BERS=0.001,0.002,0.005,0.01   bit-error rates
#   SRAM_CHIPS=20                      simulated chips (fault maps), seeds SRAM_SEED..
#   SRAM_SEED=1
#   SRAM_WIDTH=64                      weight buffer word width (bits)
#   SRAM_BER_CURVE=curve.json SRAM_VOLTAGES=V,...   sweep supply voltages instead
SRAM_BERS   ?= 0.001,0.002,0.005,0.01
SRAM_CHIPS  ?= 20
SRAM_SEED   ?= 1
SRAM_WIDTH  ?= 64
SRAM_BER_CURVE ?=
SRAM_VOLTAGES  ?=
SRAM_DIR     = $(BUILD)/sram/$(MODEL_NAME)
# BER(V) of the SRAM domain from a SPICE Monte Carlo of a sky130 6T cell:
#   SRAM_MC_SAMPLES=1000 cells, SRAM_MC_VOLTAGES=..., SRAM_MC_PROCESS=tt SRAM_MC_TEMP=25
SRAM_MC_SAMPLES  ?= 1000
SRAM_MC_VOLTAGES ?= 0.2,0.25,0.3,0.31,0.32,0.33,0.34,0.35,0.4,0.45,0.5,0.6,0.7,0.8,1.0,1.2,1.5,1.8
SRAM_MC_PROCESS  ?= tt
SRAM_MC_TEMP     ?= 25
SRAM_MC_OUT       = $(BUILD)/sram/ber_sky130hd_$(SRAM_MC_PROCESS)_$(SRAM_MC_TEMP)C.json

.PHONY: sram-eval sram-ber help-sram neuralfuse-relaxed

sram-ber: setup
	@mkdir -p $(BUILD)/sram
	$(VOSA) sram spice-ber --pdk sky130hd --process $(SRAM_MC_PROCESS) --temperature $(SRAM_MC_TEMP) \
	  --samples $(SRAM_MC_SAMPLES) --voltages $(call commas,$(SRAM_MC_VOLTAGES)) --workers $(JOBS) \
	  -o $(SRAM_MC_OUT) 2>&1 | tee $(BUILD)/sram/spice-ber.log; exit $${PIPESTATUS[0]}

sram-eval: setup
	@mkdir -p $(SRAM_DIR)
	$(VOSA) sram eval --model $(MODEL_FILE) --data $(DATA) --input-encoding $(INPUT_ENCODING) \
	  $(if $(filter-out 0,$(N)),--limit $(N)) --jobs $(JOBS) --chips $(SRAM_CHIPS) --seed $(SRAM_SEED) \
	  --width $(SRAM_WIDTH) \
	  $(if $(SRAM_VOLTAGES),--ber-curve $(SRAM_BER_CURVE) --voltages $(call commas,$(SRAM_VOLTAGES)),--bers $(call commas,$(SRAM_BERS))) \
	  --json $(SRAM_DIR)/eval.json 2>&1 | tee $(SRAM_DIR)/eval.log; exit $${PIPESTATUS[0]}

# NeuralFuse, relaxed access (docs/sram.md): a convolutional generator trained by gradient
# through a float replica of ResNet-8 on faulty training chips (seeds 1000..1015, CIFAR-10
# train5k), then evaluated on the int8 engine on chips NF_EVAL_CHIPS from seed 1, ic01.
#   NF_BER=0.01 NF_EPOCHS=8 NF_MINUTES=30 (wall-time cap) NF_CHIPS_PER_STEP=2 NF_LR=0.002
NF_DIR           = $(BUILD)/sram/neuralfuse-relaxed
NF_BER          ?= 0.01
NF_EPOCHS       ?= 8
NF_MINUTES      ?= 30
NF_CHIPS_PER_STEP ?= 2
NF_LR           ?= 0.002
NF_EVAL_CHIPS   ?= 20
NF_EVAL_BERS    ?= 0.005,0.01
PYTHON_TORCH    ?= /usr/bin/python3

neuralfuse-relaxed: setup
	@mkdir -p $(NF_DIR)
	$(VOSA) sram export -m $(DNN_MODEL_resnet8) --chips 16 --seed 1000 --bers 0.005,0.01 -o $(NF_DIR)/train_chips.json
	$(PYTHON_TORCH) scripts/neuralfuse_relaxed.py train --export $(NF_DIR)/train_chips.json \
	  --data $(DNN_ROOT)/cifar10_jpeg/data/train5k --ber $(NF_BER) --epochs $(NF_EPOCHS) --max-minutes $(NF_MINUTES) \
	  --chips-per-step $(NF_CHIPS_PER_STEP) --lr $(NF_LR) --threads $(JOBS) --out $(NF_DIR)/generator.pt \
	  2>&1 | tee $(NF_DIR)/train.log; exit $${PIPESTATUS[0]}
	rm -rf $(NF_DIR)/ic01
	$(PYTHON_TORCH) scripts/neuralfuse_relaxed.py transform --generator $(NF_DIR)/generator.pt \
	  --data $(DNN_DATA_resnet8) --out $(NF_DIR)/ic01
	$(VOSA) sram fuse-eval -m $(DNN_MODEL_resnet8) -d $(DNN_DATA_resnet8) --input-encoding pixels \
	  --transformed $(NF_DIR)/ic01 --bers $(NF_EVAL_BERS) --chips $(NF_EVAL_CHIPS) --seed 1 -j $(JOBS) \
	  --json $(NF_DIR)/fuse-eval.json 2>&1 | tee $(NF_DIR)/fuse-eval.log; exit $${PIPESTATUS[0]}

help-sram:
	@echo "  make sram-ber    BER(V) of the SRAM domain: ngspice Monte Carlo of a sky130 6T cell (SRAM_MC_SAMPLES=,"
	@echo "                   SRAM_MC_VOLTAGES=, SRAM_MC_PROCESS=, SRAM_MC_TEMP=) -> build/sram/ber_sky130hd_*.json"
	@echo "  make sram-eval   top-1 of MODEL with its weights in faulty SRAM, mean/spread over SRAM_CHIPS chips"
	@echo "                   (SRAM_BERS=, or SRAM_BER_CURVE= SRAM_VOLTAGES=; N=) -> build/sram/<model>/ (docs/sram.md)"
	@echo "  make neuralfuse-relaxed  NeuralFuse, relaxed access: a conv generator trained through a float replica of"
	@echo "                   ResNet-8 (python3-torch; NF_MINUTES=30 NF_EPOCHS=8 NF_BER=0.01), evaluated on the int8 engine"
	@echo "                   on 20 unseen chips -> build/sram/neuralfuse-relaxed/ (about 35 min on 2 loaded cores)"
