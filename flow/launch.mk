# Where a sweep's independent points run (docs/slurm.md):
#   LAUNCHER=local   on this machine (default; needs nothing of Slurm)
#   LAUNCHER=slurm   as Slurm jobs: make characterize and make charlib submit
#                    one array task per corner (flow/launch.sh); make explore
#                    runs vosa explore in one allocation of EXPLORE_WORKERS
#                    tasks, each an srun step evaluating a block of the inputs
#   SLURM_ARGS=      more sbatch options: --partition=, --account=, --time=, ...
#   EXPLORE_WORKERS= explore worker processes (default: 1 in-process evaluator
#                    with JOBS threads locally; 2 under Slurm)
LAUNCHER        ?= local
SLURM_ARGS      ?=
EXPLORE_WORKERS ?= $(if $(filter slurm,$(LAUNCHER)),2,0)
export LAUNCHER SLURM_ARGS
ifeq ($(filter local slurm,$(LAUNCHER)),)
$(error LAUNCHER must be local or slurm, got '$(LAUNCHER)')
endif

.PHONY: help-launch test-slurm
# The Slurm test of make test on its own (docs/slurm.md).
test-slurm: setup
	tests/slurm/slurm_test.sh $(VOSA) .

help-launch:
	@echo "  LAUNCHER=slurm   make characterize / charlib / explore run their points as Slurm jobs (docs/slurm.md);"
	@echo "                   knobs: SLURM_ARGS=\"--partition=... --account=... --time=...\" EXPLORE_WORKERS="
	@echo "  make test-slurm  start a one-node Slurm here and check a characterization and an explore against local runs"
