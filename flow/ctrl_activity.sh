#!/usr/bin/env bash
# Simulated activity of the voltage-island controller's gate netlist, and its
# energy per cycle from that activity (make razor-cost; docs/razor.md).
#
# OpenSTA prices the controller with its default activity (every input 0.1
# toggles per cycle, propagated), about 2.6 PE-cycles of energy per cycle on
# sky130hd, while the controller of a running array mostly counts: its level
# registers hold, the register port is idle, Razor errors are rare. This runs
# the synthesized netlist in Icarus (zero-delay, cell functions from the
# liberty through Yosys read_liberty: no glitches, a lower bound on the data
# nets' activity) in the operating scenario of an explore point:
#   reset; every island is programmed to LEVEL (the regulator acknowledges 4
#   cycles after a request); once no island is busy, CYCLES cycles are
#   recorded with each column's Razor error flag set with probability ERR_RATE
#   per cycle (seeded) and razor_stall_i following any flag;
# counts every net's transitions and high time in those cycles, writes them as
# `vosa energy --activity` lines and prices them with `vosa energy`.
#
# usage: ctrl_activity.sh VOSA NETLIST LIBERTY PDK PERIOD_NS CYCLES ERR_RATE LEVEL OUT_DIR
# writes OUT_DIR/ctrl.activity and OUT_DIR/ctrl_energy.tsv (vosa energy's table)
set -euo pipefail
[ $# -eq 9 ] || { echo "usage: $0 VOSA NETLIST LIBERTY PDK PERIOD_NS CYCLES ERR_RATE LEVEL OUT_DIR" >&2; exit 2; }
VOSA=$1 NETLIST=$2 LIB=$3 PDK=$4 PERIOD=$5 CYCLES=$6 ERR_RATE=$7 LEVEL=$8 OUT=$9
for f in "$NETLIST" "$LIB"; do [ -s "$f" ] || { echo "error: ctrl_activity: $f does not exist or is empty" >&2; exit 1; }; done
python3 -c 'import sys; p,c,e,l=float(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]); sys.exit(0 if p>0 and c>0 and 0<=e<=1 and l>=0 else 1)' \
  "$PERIOD" "$CYCLES" "$ERR_RATE" "$LEVEL" 2>/dev/null ||
  { echo "error: ctrl_activity: need PERIOD_NS > 0, CYCLES > 0, ERR_RATE in [0, 1], LEVEL >= 0 (got $PERIOD $CYCLES $ERR_RATE $LEVEL)" >&2; exit 1; }
mkdir -p "$OUT"
W=$(mktemp -d "$OUT/.ctrl_activity.XXXXXX")
trap 'rm -rf "$W"' EXIT

# Cell functions of this liberty as Verilog modules.
yosys -q -p "read_liberty -ignore_miss_func $LIB; write_verilog -noattr $W/cells.v" > "$W/yosys.log" 2>&1 ||
  { cat "$W/yosys.log" >&2; echo "error: ctrl_activity: Yosys could not read the cell functions of $LIB" >&2; exit 1; }

# Testbench sized from the netlist's ports.
python3 - "$NETLIST" "$PERIOD" "$CYCLES" "$ERR_RATE" "$LEVEL" > "$W/tb.v" <<'PY'
import re, sys
netlist, period, cycles, err_rate, level = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
text = open(netlist).read()
m = re.search(r"\bmodule\s+vosa_island_ctrl\s*\(", text)
if not m: sys.exit(f"error: ctrl_activity: {netlist} has no module vosa_island_ctrl")
width = {}
for d, msb, lsb, name in re.findall(r"\b(input|output)\s+(?:wire\s+|reg\s+)?(?:\[(\d+):(\d+)\]\s*)?(\w+)\s*;", text[m.start():]):
    width[name] = abs(int(msb) - int(lsb)) + 1 if msb else 1
need = ["clk_i", "rst_ni", "reg_we_i", "reg_addr_i", "reg_wdata_i", "reg_rdata_o", "vreq_o", "vlevel_o", "vack_i",
        "col_err_i", "razor_stall_i", "busy_o", "level_o"]
missing = [p for p in need if p not in width]
if missing: sys.exit(f"error: ctrl_activity: {netlist}: vosa_island_ctrl lacks port(s) {', '.join(missing)}")
isl, cols = width["vreq_o"], width["col_err_i"]
level_bits = width["vlevel_o"] // isl
if level >= (1 << level_bits): sys.exit(f"error: ctrl_activity: LEVEL {level} does not fit the controller's {level_bits} level bits")
half = period / 2
threshold = int(err_rate * 4294967296.0)  # $urandom < threshold with probability err_rate
print(f"""`timescale 1ns/1ps
module tb;
  reg clk = 1'b0, rst_n = 1'b0, we = 1'b0;
  reg [11:0] addr = 12'd0;
  reg [31:0] wdata = 32'd0;
  reg [{isl-1}:0] vack = 0;
  reg [{cols-1}:0] col_err = 0;
  reg stall = 1'b0;
  wire [31:0] rdata;
  wire [{isl-1}:0] vreq, busy;
  wire [{isl*level_bits-1}:0] vlevel, level;
  integer i, c, seen[0:{isl-1}];
  reg [31:0] seed = 32'd1;
  always #{half} clk = ~clk;
  vosa_island_ctrl dut(.clk_i(clk), .rst_ni(rst_n), .reg_we_i(we), .reg_addr_i(addr), .reg_wdata_i(wdata),
    .reg_rdata_o(rdata), .vreq_o(vreq), .vlevel_o(vlevel), .vack_i(vack), .col_err_i(col_err),
    .razor_stall_i(stall), .busy_o(busy), .level_o(level));
  // The regulator: acknowledges a request 4 cycles after it rises.
  always @(posedge clk) for (i = 0; i < {isl}; i = i + 1) begin
    seen[i] = vreq[i] ? seen[i] + 1 : 0;
    vack[i] <= vreq[i] && seen[i] >= 4;
  end
  initial begin
    for (i = 0; i < {isl}; i = i + 1) seen[i] = 0;
    repeat (3) @(negedge clk);
    rst_n = 1'b1;
    for (i = 0; i < {isl}; i = i + 1) begin
      @(negedge clk); we = 1'b1; addr = 12'h100 + i; wdata = {level};
    end
    @(negedge clk); we = 1'b0; addr = 12'd0; wdata = 32'd0;
    repeat (2) @(negedge clk);
    c = 0;
    while (busy != 0 && c < 100000) begin @(negedge clk); c = c + 1; end
    if (busy != 0) begin $display("error: ctrl_activity: islands still busy after 100000 cycles"); $finish; end
    $dumpfile("ctrl.vcd");
    $dumpvars(1, dut);
    for (c = 0; c < {cycles}; c = c + 1) begin
      for (i = 0; i < {cols}; i = i + 1) col_err[i] = ($urandom(seed) < 32'd{threshold}) ? 1'b1 : 1'b0;
      stall = |col_err;
      @(negedge clk);
    end
    $dumpflush;
    $display("ctrl_activity: recorded %0d cycles from %0t", {cycles}, $time);
    $finish;
  end
endmodule""")
PY
iverilog -g2005 -o "$W/sim" "$W/tb.v" "$NETLIST" "$W/cells.v" > "$W/iverilog.log" 2>&1 ||
  { cat "$W/iverilog.log" >&2; echo "error: ctrl_activity: Icarus could not compile $NETLIST" >&2; exit 1; }
(cd "$W" && vvp -n sim > vvp.log 2>&1) || { cat "$W/vvp.log" >&2; echo "error: ctrl_activity: simulation failed" >&2; exit 1; }
if grep -q '^error' "$W/vvp.log"; then cat "$W/vvp.log" >&2; exit 1; fi

# VCD -> per-net transitions per second and duty, over the recorded cycles.
python3 - "$W/ctrl.vcd" "$PERIOD" "$CYCLES" "$ERR_RATE" > "$W/ctrl.activity" <<'PY'
import re, sys
vcd, period, cycles, err_rate = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ids = {}            # id code -> [bit names, MSB first]
scale = None        # VCD time unit in ns
lines = open(vcd).read().split("\n")
k = 0
while k < len(lines):
    l = lines[k].strip()
    if l.startswith("$timescale"):
        t = l if "$end" in l else l + " " + lines[k + 1]
        m = re.search(r"(\d+)\s*(s|ms|us|ns|ps|fs)", t)
        scale = int(m.group(1)) * {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0, "ps": 1e-3, "fs": 1e-6}[m.group(2)]
    m = re.match(r"\$var\s+\w+\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s+\$end", l)
    if m:
        size, code, name = int(m.group(1)), m.group(2), m.group(3).lstrip("\\")
        if size == 1:
            ids[code] = [name]
        else:
            msb, lsb = int(m.group(4)), int(m.group(5))
            step = -1 if msb >= lsb else 1
            ids[code] = [f"{name}[{b}]" for b in range(msb, lsb + step, step)]
    if l.startswith("$enddefinitions"):
        break
    k += 1
if scale is None: sys.exit(f"error: ctrl_activity: {vcd} has no $timescale")
value, toggles, high, since = {}, {}, {}, {}
t_now, t_start = None, None
def setbit(name, v):
    old = value.get(name)
    if old == "1": high[name] += t_now - since[name]
    if old in ("0", "1") and v in ("0", "1") and v != old and t_now > t_start: toggles[name] += 1
    value[name], since[name] = v, t_now
for name in (n for names in ids.values() for n in names):
    toggles[name], high[name], since[name] = 0, 0.0, 0.0
for l in lines[k + 1:]:
    l = l.strip()
    if not l or l.startswith("$"): continue
    if l[0] == "#":
        t_now = int(l[1:]) * scale
        if t_start is None: t_start = t_now
        continue
    if l[0] in "01xzXZ":
        for n in ids[l[1:]]: setbit(n, l[0].lower())
    elif l[0] in "bB":
        bits, code = l[1:].split()
        names = ids[code]
        bits = bits.lower().rjust(len(names), "0" if bits[0] in "01" else bits[0])
        for n, v in zip(names, bits): setbit(n, v)
t_end = t_start + cycles * period
if t_now is None or t_now < t_end - 1e-6: sys.exit(f"error: ctrl_activity: {vcd} ends at {t_now} ns, before {t_end} ns")
span = t_end - t_start
print(f"# net transitions_per_second duty (zero-delay Icarus simulation of the controller netlist, "
      f"{cycles} cycles of {period} ns, Razor error rate {err_rate} per column-cycle; flow/ctrl_activity.sh)")
for name in sorted(toggles):
    if value.get(name) == "1": high[name] += t_end - since[name]
    print(f"{name} {toggles[name] / (span * 1e-9):.6g} {high[name] / span:.6g}")
PY
"$VOSA" energy --netlist "$NETLIST" --liberty "$LIB" --pdk "$PDK" --period-ns "$PERIOD" --activity "$W/ctrl.activity" \
  > "$W/ctrl_energy.tsv"
mv "$W/ctrl.activity" "$OUT/ctrl.activity"
mv "$W/ctrl_energy.tsv" "$OUT/ctrl_energy.tsv"
