// Carry-propagate adder of the PE: sum_o = a_i + b_i, wrapped to WIDTH bits.
// Carry select: BLOCK-bit ripple blocks; every block but the first computes
// its sum for a carry-in of 0 and of 1 at once, and the real carry, rippling
// from block to block through one multiplexer each, selects one. Bit j
// settles after at most BLOCK carry stages plus j/BLOCK multiplexers.
// keep_hierarchy: the flow maps this module on its own so that ABC keeps
// its structure (docs/arith.md).
(* keep_hierarchy *)
module vosa_add #(
  parameter integer WIDTH = {{ACC_BITS}},
  parameter integer BLOCK = 4
) (
  input  wire [WIDTH-1:0] a_i,
  input  wire [WIDTH-1:0] b_i,
  output wire [WIDTH-1:0] sum_o
);

  localparam integer BLOCKS = (WIDTH + BLOCK - 1) / BLOCK;

  // c0/c1[j]: carry into bit j when the carry into j's block is 0 / 1.
  wire [WIDTH-1:0] c0 /* verilator split_var */;
  wire [WIDTH-1:0] c1 /* verilator split_var */;
  // block_carry[b]: the real carry into block b (b = BLOCKS: the carry out
  // of the MSB, not needed as the sum wraps). split_var (here and on
  // c0/c1): Verilator otherwise sees a chain through one vector as a
  // combinational loop (UNOPTFLAT).
  wire [BLOCKS:0] block_carry /* verilator split_var */;
  assign block_carry[0] = 1'b0;

  genvar b, j;
  generate
    for (b = 0; b < BLOCKS; b = b + 1) begin : g_block
      localparam integer LO = b * BLOCK;
      localparam integer HI = (LO + BLOCK < WIDTH) ? LO + BLOCK - 1 : WIDTH - 1;
      for (j = LO; j <= HI; j = j + 1) begin : g_bit
        wire p = a_i[j] ^ b_i[j];
        wire g = a_i[j] & b_i[j];
        if (j == LO) begin : g_first
          assign c0[j] = 1'b0;
          assign c1[j] = 1'b1;
        end
        if (j < HI) begin : g_ripple
          assign c0[j+1] = g | (p & c0[j]);
          assign c1[j+1] = g | (p & c1[j]);
        end
        assign sum_o[j] = p ^ (block_carry[b] ? c1[j] : c0[j]);
        if (j == HI) begin : g_select
          // Carry out of the block, for either carry in; the real one is chosen.
          wire out0 = g | (p & c0[j]);
          wire out1 = g | (p & c1[j]);
          assign block_carry[b+1] = block_carry[b] ? out1 : out0;
        end
      end
    end
  endgenerate
  wire unused_carry_out = block_carry[BLOCKS];
endmodule
