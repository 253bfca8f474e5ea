// Carry-propagate adder of the PE: sum_o = a_i + b_i, wrapped to WIDTH bits.
// Ripple carry: one full adder per bit, the carry passes through every bit,
// so bit j settles after j carry stages (the MSB last).
// keep_hierarchy: the flow maps this module on its own so that ABC keeps
// its structure (docs/arith.md).
(* keep_hierarchy *)
module vosa_add #(
  parameter integer WIDTH = {{ACC_BITS}}
) (
  input  wire [WIDTH-1:0] a_i,
  input  wire [WIDTH-1:0] b_i,
  output wire [WIDTH-1:0] sum_o
);

  // carry[j] is the carry into bit j. split_var: Verilator otherwise sees
  // the chain through one vector as a combinational loop (UNOPTFLAT).
  wire [WIDTH-1:0] carry /* verilator split_var */;
  assign carry[0] = 1'b0;

  genvar j;
  generate
    for (j = 0; j < WIDTH; j = j + 1) begin : g_bit
      assign sum_o[j] = a_i[j] ^ b_i[j] ^ carry[j];
      if (j + 1 < WIDTH) begin : g_carry
        assign carry[j+1] = (a_i[j] & b_i[j]) | (carry[j] & (a_i[j] ^ b_i[j]));
      end
    end
  endgenerate
endmodule
