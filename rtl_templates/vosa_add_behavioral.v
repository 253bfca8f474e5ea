// Carry-propagate adder of the PE: sum_o = a_i + b_i, wrapped to WIDTH bits.
// Behavioural: the structure is left to synthesis (as the PE's inline adder).
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
