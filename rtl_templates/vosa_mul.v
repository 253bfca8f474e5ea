// Multiplier of one PE: a_i * w_i, extended to OUT_BITS.
// SIGNED selects two's-complement (1) or unsigned (0) operands.
module vosa_mul #(
  parameter integer A_BITS   = {{PE_ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer OUT_BITS = {{ACC_BITS}},
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire [A_BITS-1:0]   a_i,
  input  wire [W_BITS-1:0]   w_i,
  output wire [OUT_BITS-1:0] prod_o
);

  localparam integer P_BITS = A_BITS + W_BITS;

  wire [P_BITS-1:0] prod;

  generate
    if (SIGNED != 0) begin : g_signed
      // Operands are sign-extended to P_BITS by the context width.
      assign prod = $signed(a_i) * $signed(w_i);
    end else begin : g_unsigned
      assign prod = a_i * w_i;
    end

    if (OUT_BITS > P_BITS) begin : g_extend
      wire ext_bit = (SIGNED != 0) ? prod[P_BITS-1] : 1'b0;
      assign prod_o = {{(OUT_BITS - P_BITS){ext_bit}}, prod};
    end else begin : g_exact
      // The generator guarantees OUT_BITS >= P_BITS.
      assign prod_o = prod;
    end
  endgenerate
endmodule
