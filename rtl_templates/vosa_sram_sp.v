// Single-port SRAM, behavioural: the macro boundary of the weight and
// activation buffers (docs/sram.md, "RTL buffers"). A compiled SRAM macro
// with one read/write port replaces this module: keep the ports, map
// req_i/we_i to its chip-enable/write-enable (active high here), and its
// output must hold the last read word until the next read, as rdata_o does.
//
//   clk_i    clock; every access takes effect at its rising edge
//   req_i    an access this cycle (read when we_i is low, write when high)
//   we_i     write wdata_i to addr_i
//   addr_i   word address, 0..DEPTH-1
//   wdata_i  word to write
//   rdata_o  the word at addr_i of the last read, one cycle after it;
//            unchanged by writes and idle cycles
//
// Simulation only (VOSA_SRAM_FAULTS): stuck-at bit cells of a fault map. The
// file named by the plusarg FAULT_PLUSARG holds one $readmemh line per word,
// {stuck-at-1 mask, stuck-at-0 mask} (2 x WIDTH bits); a cell in a mask reads
// back stuck whatever was written, on every read (vosa_layers --sram-faults).
module vosa_sram_sp #(
  parameter integer DEPTH     = 16,
  parameter integer WIDTH     = 32,
  parameter integer ADDR_BITS = 4,
  // Read only by the simulation-only fault masks (VOSA_SRAM_FAULTS).
  /* verilator lint_off UNUSEDPARAM */
  parameter         FAULT_PLUSARG = "vosa_sram_faults=%s"
  /* verilator lint_on UNUSEDPARAM */
) (
  input  wire                 clk_i,
  input  wire                 req_i,
  input  wire                 we_i,
  input  wire [ADDR_BITS-1:0] addr_i,
  input  wire [WIDTH-1:0]     wdata_i,
  output wire [WIDTH-1:0]     rdata_o
);

  reg [WIDTH-1:0] mem_q [0:DEPTH-1];
  reg [WIDTH-1:0] rdata_q;

`ifdef VOSA_SRAM_FAULTS
  reg [2*WIDTH-1:0] fault_q [0:DEPTH-1];
  reg [8*1024-1:0]  fault_file;
  integer           word;
  initial begin
    for (word = 0; word < DEPTH; word = word + 1) fault_q[word] = {2*WIDTH{1'b0}};
    if ($value$plusargs(FAULT_PLUSARG, fault_file)) $readmemh(fault_file, fault_q);
  end
  wire [2*WIDTH-1:0] fault = fault_q[addr_i];
  wire [WIDTH-1:0]   read_word = (mem_q[addr_i] & ~fault[WIDTH-1:0]) | fault[2*WIDTH-1:WIDTH];
`else
  wire [WIDTH-1:0]   read_word = mem_q[addr_i];
`endif

  always @(posedge clk_i) begin
    if (req_i && we_i) mem_q[addr_i] <= wdata_i;
    if (req_i && !we_i) rdata_q <= read_word;
  end

  assign rdata_o = rdata_q;
endmodule
