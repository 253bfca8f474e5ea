// Multiplier of one PE: a_i * w_i, extended to OUT_BITS.
// SIGNED selects two's-complement (1) or unsigned (0) operands.
// Radix-4 Booth with a Wallace tree:
//   1. w is recoded into DIGITS Booth digits d_k in {-2, -1, 0, 1, 2}
//      (unsigned w gets a zero sign bit first), so there are about half as
//      many partial products d_k * a * 4^k as in an array multiplier. A
//      negative digit takes ~(|d_k| * a); its +1 goes into one extra row.
//   2. A Wallace tree of word-level 3:2 carry-save adders reduces the
//      DIGITS + 1 rows to two in about log1.5(DIGITS + 1) levels, with no
//      carry propagation.
//   3. One carry-propagate adder (vosa_add, the config's adder kind) adds them.
// All rows are P_BITS = A_BITS + W_BITS wide and wrap: the product fits.
// keep_hierarchy: the flow maps this module on its own so that ABC keeps
// its structure (docs/arith.md).
(* keep_hierarchy *)
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
  // Bits of w as a two's-complement number, and its Booth digits.
  localparam integer WX     = (SIGNED != 0) ? W_BITS : W_BITS + 1;
  localparam integer DIGITS = (WX + 1) / 2;
  localparam integer ROWS   = DIGITS + 1;

  // Rows left after `level` levels of 3:2 reduction, starting from ROWS.
  function integer rows_after(input integer level);
    integer l;
    begin
      rows_after = ROWS;
      for (l = 0; l < level; l = l + 1) rows_after = 2 * (rows_after / 3) + rows_after % 3;
    end
  endfunction

  function integer tree_levels(input integer dummy);
    begin
      tree_levels = 0;
      while (rows_after(tree_levels) > 2) tree_levels = tree_levels + 1;
      tree_levels = tree_levels + 0 * dummy;
    end
  endfunction

  localparam integer LEVELS = tree_levels(0);

  wire a_sign = (SIGNED != 0) ? a_i[A_BITS-1] : 1'b0;
  wire [P_BITS-1:0] a_ext = {{W_BITS{a_sign}}, a_i};
  // y[k+1] = bit k of w extended to 2*DIGITS bits; y[0] = 0 starts the recoding.
  wire [2*DIGITS:0] y;
  generate
    if (2 * DIGITS > W_BITS) begin : g_w_extend
      wire w_sign = (SIGNED != 0) ? w_i[W_BITS-1] : 1'b0;
      assign y = {{(2 * DIGITS - W_BITS){w_sign}}, w_i, 1'b0};
    end else begin : g_w_exact
      assign y = {w_i, 1'b0};
    end
  endgenerate

  // rows[l][r]: row r after l reduction levels (only the first
  // rows_after(l) are used). split_var: each level reads the previous one of
  // the same array, which Verilator would otherwise see as a loop (UNOPTFLAT).
  wire [P_BITS-1:0] rows [0:LEVELS][0:ROWS-1] /* verilator split_var */;
  // The +1 of each negative digit, at the digit's weight.
  wire [P_BITS-1:0] neg_row;

  genvar k, l, r;
  generate
    for (k = 0; k < DIGITS; k = k + 1) begin : g_digit
      wire [2:0] t = y[2*k+2:2*k];
      wire one = t[1] ^ t[0];                                    // |d| = 1
      wire two = (t[2] & ~t[1] & ~t[0]) | (~t[2] & t[1] & t[0]); // |d| = 2
      wire neg = t[2] & ~(t[1] & t[0]);                          // d < 0
      // Only the PW bits that stay below P_BITS after the shift by 2k.
      localparam integer PW = P_BITS - 2 * k;
      wire [PW-1:0] mag = one ? a_ext[PW-1:0] : two ? {a_ext[PW-2:0], 1'b0} : {PW{1'b0}};
      wire [PW-1:0] pp  = neg ? ~mag : mag;
      if (k == 0) begin : g_unshifted
        assign rows[0][k] = pp;
      end else begin : g_shifted
        assign rows[0][k] = {pp, {(2 * k){1'b0}}};
      end
      assign neg_row[2*k] = neg;
      if (2 * k + 1 < P_BITS) begin : g_gap
        assign neg_row[2*k+1] = 1'b0;
      end
    end
    if (2 * DIGITS < P_BITS) begin : g_neg_top
      assign neg_row[P_BITS-1:2*DIGITS] = {(P_BITS - 2 * DIGITS){1'b0}};
    end
    assign rows[0][ROWS-1] = neg_row;

    for (l = 0; l < LEVELS; l = l + 1) begin : g_level
      localparam integer IN  = rows_after(l);
      localparam integer OUT = rows_after(l + 1);
      for (r = 0; r < ROWS; r = r + 1) begin : g_row
        if (r < 2 * (IN / 3)) begin : g_csa
          // Groups of three rows become a sum row and a carry row.
          localparam integer G = r / 2;
          if (r % 2 == 0) begin : g_sum
            assign rows[l+1][r] = rows[l][3*G] ^ rows[l][3*G+1] ^ rows[l][3*G+2];
          end else begin : g_carry
            // The carry out of the MSB is dropped: rows wrap at P_BITS.
            wire [P_BITS-2:0] x = rows[l][3*G][P_BITS-2:0];
            wire [P_BITS-2:0] u = rows[l][3*G+1][P_BITS-2:0];
            wire [P_BITS-2:0] v = rows[l][3*G+2][P_BITS-2:0];
            assign rows[l+1][r] = {(x & u) | (x & v) | (u & v), 1'b0};
          end
        end else if (r < OUT) begin : g_pass
          // The IN % 3 rows left over pass to the next level.
          assign rows[l+1][r] = rows[l][3*(IN/3) + r - 2*(IN/3)];
        end else begin : g_idle
          assign rows[l+1][r] = {P_BITS{1'b0}};
        end
      end
    end
  endgenerate

  wire [P_BITS-1:0] prod;
  vosa_add #(
    .WIDTH(P_BITS)
  ) u_cpa (
    .a_i  (rows[LEVELS][0]),
    .b_i  (rows[LEVELS][1]),
    .sum_o(prod)
  );

  generate
    if (OUT_BITS > P_BITS) begin : g_extend
      wire ext_bit = (SIGNED != 0) ? prod[P_BITS-1] : 1'b0;
      assign prod_o = {{(OUT_BITS - P_BITS){ext_bit}}, prod};
    end else begin : g_exact
      // The generator guarantees OUT_BITS >= P_BITS.
      assign prod_o = prod;
    end
  endgenerate
endmodule
