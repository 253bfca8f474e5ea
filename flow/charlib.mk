# SPICE cell characterization with ngspice (docs/charlib.md). Paths live here
# only, so a change of the build-folder layout touches this file alone.
#   make charlib PDK=sky130hd CORNERS=tt_025C_1v10,ss_n40C_1v00
#       the cells of CONFIG's PE netlist (or CELLS=a,b) at those corners ->
#       build/<config>-<hash>/<pdk>/charlib/<corner>.lib + <corner>.json
#   make validate-charlib    SPICE vs the shipped sky130hd corners ->
#       build/<config>-<hash>/sky130hd/charlib/validation/report.{json,md}, entries.csv
#       (every spice-ratio entry: cell, arc, slew, load, shipped, SPICE, error)
#   make calibrate-charlib   fit spice.threshold_shift on CALIBRATE_CORNERS ->
#       build/<config>-<hash>/sky130hd/charlib/calibration/calibration.json
#   make calibrate-charlib-cells   per-cell shifts (CALIBRATE_CELL_CELLS, or the PE's cells) ->
#       build/<config>-<hash>/sky130hd/charlib/calibration/cells_ss.json (spice.cell_calibration's format)
# Knobs: CELLS=  CHARLIB_SOURCE=spice|spice-ratio  CHARLIB_GRID=<points per axis, 0 = full>
#        CHARLIB_JOBS=<ngspice processes, default 2>  VALIDATE_CORNERS=  VALIDATE_TOP=  VALIDATE_GRID=
#        CHARLIB_CALIBRATION=--uncalibrated (validate the plain models), --no-cell-calibration (per-model
#          shifts only), --cell-calibration <file>   CALIBRATE_CELLS=  CALIBRATE_CORNERS=
#        CALIBRATE_CELL_CELLS=  CALIBRATE_STEPS=  CALIBRATE_MAX_EVALUATIONS=  (per-cell fit)
CELLS            ?=
CHARLIB_SOURCE   ?= spice
CHARLIB_GRID     ?= 0
CHARLIB_JOBS     ?= 2
CHARLIB_DIR       = $(CONFIG_DIR)/$(PDK)/charlib
CHARLIB_NETLIST   = $(FLOW_DIR)/synth/pe_netlist.v
CHARLIB_CACHE     = $(BUILD)/pdk
VALIDATE_CORNERS ?= ss_n40C_1v28,ss_n40C_1v40,ss_n40C_1v60,tt_025C_1v80,ff_n40C_1v95,ss_100C_1v60
VALIDATE_TOP     ?= ss_n40C_1v76
VALIDATE_GRID    ?= 3
CHARLIB_CALIBRATION ?=
# The fit's cells and corner; validate-charlib's other corners and cells are held out of it.
CALIBRATE_CELLS  ?= sky130_fd_sc_hd__inv_1,sky130_fd_sc_hd__nand2_1,sky130_fd_sc_hd__nor2_1,sky130_fd_sc_hd__a21oi_1
CALIBRATE_CORNERS ?= ss_n40C_1v40
CALIBRATE_MODELS ?= sky130_fd_pr__nfet_01v8,sky130_fd_pr__pfet_01v8_hvt
# Per-cell fit (docs/charlib.md, "Per-cell calibration"): empty = the PE netlist's cells.
CALIBRATE_CELL_CELLS ?=
CALIBRATE_STEPS  ?= 0.04,0.02
CALIBRATE_MAX_EVALUATIONS ?= 0
calibrate_cell_cells = $(if $(strip $(CALIBRATE_CELL_CELLS)),--cells $(CALIBRATE_CELL_CELLS),--netlist $(CHARLIB_NETLIST))
charlib_comma    := ,
charlib_space    := $(subst ,, )
charlib_cells     = $(if $(strip $(CELLS)),--cells $(CELLS),--netlist $(CHARLIB_NETLIST))

# Locally one ngspice session serves every corner; under LAUNCHER=slurm each
# corner is its own array task (flow/launch.sh, docs/slurm.md).
CHARLIB_COMMAND   = $(VOSA) charlib --pdk $(PDK) $(charlib_cells) --delay-source $(CHARLIB_SOURCE) \
  --grid-points $(CHARLIB_GRID) -j $(CHARLIB_JOBS) --cache-dir $(CHARLIB_CACHE) -o $(CHARLIB_DIR)

.PHONY: charlib validate-charlib calibrate-charlib calibrate-charlib-cells help-charlib

charlib: $(if $(strip $(CELLS)),setup,synth)
	@test -n "$(strip $(CORNERS))" || { echo "charlib: give CORNERS=tt_025C_1v10,... (see docs/charlib.md)"; exit 1; }
	@mkdir -p $(CHARLIB_DIR)
ifeq ($(LAUNCHER),slurm)
	@for corner in $(call spaces,$(CORNERS)); do \
	  printf '%s\t%s\n' "$(CHARLIB_DIR)/$$corner.log" "$(CHARLIB_COMMAND) --corners $$corner"; \
	done > $(CHARLIB_DIR)/tasks.txt
	flow/launch.sh charlib-$(PDK) $(CHARLIB_DIR)/tasks.txt
else
	$(CHARLIB_COMMAND) --corners $(subst $(charlib_space),$(charlib_comma),$(strip $(CORNERS))) 2>&1 | tee $(CHARLIB_DIR)/charlib.log
endif

validate-charlib: PDK = sky130hd
validate-charlib: synth
	@mkdir -p $(CHARLIB_DIR)/validation
	$(VOSA) charlib-compare --pdk $(PDK) $(charlib_cells) --corners $(VALIDATE_CORNERS) --top $(VALIDATE_TOP) \
	  --grid-points $(VALIDATE_GRID) -j $(CHARLIB_JOBS) --cache-dir $(CHARLIB_CACHE) $(CHARLIB_CALIBRATION) \
	  -o $(CHARLIB_DIR)/validation/report.json --entries $(CHARLIB_DIR)/validation/entries.csv \
	  2>&1 | tee $(CHARLIB_DIR)/validation/compare.log

calibrate-charlib: PDK = sky130hd
calibrate-charlib: setup
	@mkdir -p $(CHARLIB_DIR)/calibration
	$(VOSA) charlib-calibrate --pdk $(PDK) --cells $(CALIBRATE_CELLS) --corners $(CALIBRATE_CORNERS) --top $(VALIDATE_TOP) \
	  --models $(CALIBRATE_MODELS) --grid-points $(VALIDATE_GRID) -j $(CHARLIB_JOBS) --cache-dir $(CHARLIB_CACHE) \
	  -o $(CHARLIB_DIR)/calibration/calibration.json 2>&1 | tee $(CHARLIB_DIR)/calibration/calibrate.log

calibrate-charlib-cells: PDK = sky130hd
calibrate-charlib-cells: $(if $(strip $(CALIBRATE_CELL_CELLS)),setup,synth)
	@mkdir -p $(CHARLIB_DIR)/calibration
	$(VOSA) charlib-calibrate --per-cell --pdk $(PDK) $(calibrate_cell_cells) --corners $(CALIBRATE_CORNERS) --top $(VALIDATE_TOP) \
	  --models $(CALIBRATE_MODELS) --steps $(CALIBRATE_STEPS) --max-evaluations $(CALIBRATE_MAX_EVALUATIONS) \
	  --grid-points $(VALIDATE_GRID) -j $(CHARLIB_JOBS) --cache-dir $(CHARLIB_CACHE) \
	  -o $(CHARLIB_DIR)/calibration/cells_ss.json 2>&1 | tee $(CHARLIB_DIR)/calibration/calibrate_cells.log

help-charlib:
	@echo "  make charlib     ngspice characterization of the PE's cells (or CELLS=) at CORNERS= -> build/<config>-<hash>/<pdk>/charlib/"
	@echo "  make validate-charlib  SPICE vs the shipped sky130hd corners (report.md: delay, transition, cap, leakage, voltage ratio, setup/hold, internal power; entries.csv: every ratio entry)"
	@echo "  make calibrate-charlib fit the device threshold shifts (spice.threshold_shift) on CALIBRATE_CORNERS (docs/charlib.md)"
	@echo "  make calibrate-charlib-cells  fit threshold shifts per cell (a spice.cell_calibration file) on CALIBRATE_CORNERS"
