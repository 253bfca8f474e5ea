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

.PHONY: sram-eval help-sram

sram-eval: setup
	@mkdir -p $(SRAM_DIR)
	$(VOSA) sram eval --model $(MODEL_FILE) --data $(DATA) --input-encoding $(INPUT_ENCODING) \
	  $(if $(filter-out 0,$(N)),--limit $(N)) --jobs $(JOBS) --chips $(SRAM_CHIPS) --seed $(SRAM_SEED) \
	  --width $(SRAM_WIDTH) \
	  $(if $(SRAM_VOLTAGES),--ber-curve $(SRAM_BER_CURVE) --voltages $(call commas,$(SRAM_VOLTAGES)),--bers $(call commas,$(SRAM_BERS))) \
	  --json $(SRAM_DIR)/eval.json 2>&1 | tee $(SRAM_DIR)/eval.log; exit $${PIPESTATUS[0]}

help-sram:
	@echo "  make sram-eval   top-1 of MODEL with its weights in faulty SRAM, mean/spread over SRAM_CHIPS chips"
	@echo "                   (SRAM_BERS=, or SRAM_BER_CURVE= SRAM_VOLTAGES=; N=) -> build/sram/<model>/ (docs/sram.md)"
