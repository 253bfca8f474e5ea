// Carry-propagate adder of the PE: sum_o = a_i + b_i, wrapped to WIDTH bits.
// Behavioural: the structure is left to synthesis (Yosys' own mapping of `+`).
// keep_hierarchy: the flow maps this module on its own, like the other
// adder kinds, so the comparison between them is fair (docs/arith.md).
(* keep_hierarchy *)
module vosa_add #(
  parameter integer WIDTH = {{ACC_BITS}}
) (
  input  wire [WIDTH-1:0] a_i,
  input  wire [WIDTH-1:0] b_i,
  output wire [WIDTH-1:0] sum_o
);

  assign sum_o = a_i + b_i;
endmodule
