// Weight-stationary processing element: one multiply-accumulate cell.
// {{^CARRY_SAVE}}
//   psum_q <= psum_i + a_q * w_q
// {{/CARRY_SAVE}}
// {{#CARRY_SAVE}}
//   {psum_q, psum_c_q} <= carry-save sum of psum_i, psum_c_i and a_q * w_q
// Carry-save partial sums: the sum word (psum) and the carry word (psum_c)
// travel down the column and one row of full adders compresses them with the
// product, so no carry propagates inside the PE; psum_q + psum_c_q is the
// partial sum, added by the carry-propagate adder at the column's bottom.
// {{/CARRY_SAVE}}
// psum_q is the PE's output register, the timing endpoint that voltage
// overscaling breaks first. The weight is preloaded through a per-column
// shift chain (w_shift_i) and then held; the activation is registered and
// passed on to the right.
// {{#RAZOR}}
// Razor: the bits in RAZOR_MASK of psum_q are double-sampled by a shadow
// register on the delayed clock clk_shadow_i; err_o flags a main/shadow
// mismatch in this cycle. Policy "correct": while the array stalls (stall_i)
// the main register is restored from the shadow. Policy "drop" (TE-Drop): in
// the error cycle psum_o carries the incoming partial sum instead, dropping
// this PE's contribution.
// {{#RAZOR_CORRECT}}
// With policy correct the shadow samples psum_d on every shadow edge, with no
// enable: stall_i is err_o (ORed over the array), which moves within the
// cycle, so an enable from it would be sampled by the delayed shadow edge
// while it switches (docs/razor.md "Stall and shadow"). After a stalled edge
// the shadow holds the value in flight, not psum_q's, so stalled_q (the
// last edge was a stall) masks err_o for that cycle.
// {{/RAZOR_CORRECT}}
// {{#CARRY_SAVE}}
// Carry-save: the same bits of the carry word psum_c_q have shadows too; a
// mismatch in either word flags the error, correction restores both words,
// TE-Drop passes on the incoming pair.
// {{/CARRY_SAVE}}
// {{/RAZOR}}
// {{#PREC}}
// Precision modes: mode_q (the mode of the vector now in this PE, passed
// down the column with it) selects masks A_KEEP / W_KEEP; the operands' low
// bits a mode drops reach the multiplier as the constant 10..0 (0 when the
// operand is 0), so the multiplier's low partial products stop switching
// (docs/precision.md).
// {{/PREC}}
// {{#REUSE}}
// Computation reuse: a_i is the difference of the activation from the
// previous inference's (a delta; zero when the input did not change). A PE
// that receives a zero delta skips its MAC: a_q keeps its old value (clock
// enable), so the multiplier's operands a_q and w_q do not move; the
// accumulation adder's partial-sum operand is forced to zero (operand
// isolation; config reuse_adder_isolation, default true), so over a run of
// skipped MACs neither the multiplier nor the adder toggles; psum_q takes
// psum_i unchanged. nz_q records whether a_q is this cycle's delta, and the
// delta passed right is a_q only then (zero otherwise), so the next PE sees
// the same deltas as without gating.
// {{/REUSE}}
// Simulation only: with VOSA_INJECT_ERRORS defined, every capture of psum_q
// XORs in the mask returned by the C function vosa_inject_mask(row, col, d),
// modelling bits that arrived too late to toggle; d is the value the register
// captures without error, so that the mask can fit its bits (a schema-3 error
// model, docs/errmodel.md "The injection's form"). The PE's array coordinates
// are ROW + row0_i, COL + col0_i: a tile passes its origin as ports, not
// parameters, so that every tile stays one Verilated class.
// {{#CARRY_SAVE}}
// The carry word psum_c_q takes vosa_inject_carry_mask(row, col) the same way
// (the C side draws one mask for the pair per capture).
// {{/CARRY_SAVE}}
module vosa_pe #(
`ifdef VOSA_INJECT_ERRORS
  parameter integer ROW        = 0,
  parameter integer COL        = 0,
`endif
  parameter integer A_BITS     = {{PE_ACT_BITS}},
  parameter integer W_BITS     = {{WEIGHT_BITS}},
  parameter integer ACC_BITS   = {{ACC_BITS}},
  // {{#PREC}}
  parameter integer MODE_BITS  = {{MODE_BITS}},
  // Entry m (bits m*A_BITS +: A_BITS) is the activation mask of mode m.
  parameter [(1<<MODE_BITS)*A_BITS-1:0] A_KEEP = {{A_KEEP}},
  parameter [(1<<MODE_BITS)*W_BITS-1:0] W_KEEP = {{W_KEEP}},
  // {{/PREC}}
  // {{#RAZOR}}
  parameter [ACC_BITS-1:0] RAZOR_MASK = {{RAZOR_MASK}},
  // {{/RAZOR}}
  parameter integer SIGNED     = {{SIGNED}}
) (
  input  wire                clk_i,
  input  wire                rst_ni,
`ifdef VOSA_INJECT_ERRORS
  input  wire [31:0]         row0_i,
  input  wire [31:0]         col0_i,
`endif
  // {{#STALL}}
  input  wire                stall_i,
  // {{/STALL}}
  // {{#RAZOR}}
  input  wire                clk_shadow_i,
  output wire                err_o,
  // {{/RAZOR}}
  // {{#PREC}}
  input  wire [MODE_BITS-1:0] mode_i,
  output wire [MODE_BITS-1:0] mode_o,
  // {{/PREC}}
  input  wire                w_shift_i,
  input  wire [W_BITS-1:0]   w_i,
  output wire [W_BITS-1:0]   w_o,
  input  wire [A_BITS-1:0]   a_i,
  output wire [A_BITS-1:0]   a_o,
  input  wire [ACC_BITS-1:0] psum_i,
  // {{#CARRY_SAVE}}
  input  wire [ACC_BITS-1:0] psum_c_i,
  output wire [ACC_BITS-1:0] psum_c_o,
  // {{/CARRY_SAVE}}
  output wire [ACC_BITS-1:0] psum_o
);

`ifdef VOSA_INJECT_ERRORS
  // The C function is called through $c, not a DPI import: Verilator numbers
  // the temporaries of every DPI call site, which made each tile instance's
  // code different (no sharing, 208 MB of C++ for 256x256).
`systemc_header
extern "C" long long vosa_inject_mask(int row, int col, unsigned long long d);
// {{#CARRY_SAVE}}
extern "C" long long vosa_inject_carry_mask(int row, int col);
// {{/CARRY_SAVE}}
`verilog
`endif

  reg  [A_BITS-1:0]   a_q;
  reg  [W_BITS-1:0]   w_q;
  reg  [ACC_BITS-1:0] psum_q;
  // {{#CARRY_SAVE}}
  reg  [ACC_BITS-1:0] psum_c_q;
  // {{/CARRY_SAVE}}
  wire [ACC_BITS-1:0] prod;
  // {{#REUSE}}
  reg                 nz_q;
  wire                nz_d = |a_i;
  // {{#REUSE_ISOLATE_ADDER}}
  // The adder's partial-sum operand: zero while the MAC is skipped.
  wire [ACC_BITS-1:0] psum_add = {ACC_BITS{nz_q}} & psum_i;
  // {{/REUSE_ISOLATE_ADDER}}
  // {{^REUSE_ISOLATE_ADDER}}
  // reuse_adder_isolation false: the adder sees psum_i in every cycle (its
  // result is not taken while the MAC is skipped).
  wire [ACC_BITS-1:0] psum_add = psum_i;
  // {{/REUSE_ISOLATE_ADDER}}
  // {{/REUSE}}
  // {{#PREC}}
  reg  [MODE_BITS-1:0] mode_q;
  wire [A_BITS-1:0]   a_keep = A_KEEP[mode_q*A_BITS +: A_BITS];
  wire [W_BITS-1:0]   w_keep = W_KEEP[mode_q*W_BITS +: W_BITS];
  // Kept bits pass; of the dropped ones the highest is 1, the rest 0 (the
  // midpoint of the values the reduced operand stands for: no bias), except
  // that zero stays zero (padding and idle cycles must add nothing).
  wire                a_nonzero = |a_q;
  wire                w_nonzero = |w_q;
  wire [A_BITS-1:0]   a_mul = (a_q & a_keep) | ({A_BITS{a_nonzero}} & ~a_keep & (a_keep >> 1));
  wire [W_BITS-1:0]   w_mul = (w_q & w_keep) | ({W_BITS{w_nonzero}} & ~w_keep & (w_keep >> 1));
  // {{/PREC}}

  vosa_mul #(
    .A_BITS  (A_BITS),
    .W_BITS  (W_BITS),
    .OUT_BITS(ACC_BITS),
    .SIGNED  (SIGNED)
  ) u_mul (
    // {{^PREC}}
    .a_i   (a_q),
    .w_i   (w_q),
    // {{/PREC}}
    // {{#PREC}}
    .a_i   (a_mul),
    .w_i   (w_mul),
    // {{/PREC}}
    .prod_o(prod)
  );

  // {{#ADD_INLINE}}
  // {{^REUSE}}
  wire [ACC_BITS-1:0] psum_d = psum_i + prod;
  // {{/REUSE}}
  // {{#REUSE}}
  wire [ACC_BITS-1:0] psum_d = psum_add + prod;
  // {{/REUSE}}
  // {{/ADD_INLINE}}
  // {{#ADD_MODULE}}
  wire [ACC_BITS-1:0] psum_d;

  vosa_add #(
    .WIDTH(ACC_BITS)
  ) u_add (
    // {{^REUSE}}
    .a_i  (psum_i),
    // {{/REUSE}}
    // {{#REUSE}}
    .a_i  (psum_add),
    // {{/REUSE}}
    .b_i  (prod),
    .sum_o(psum_d)
  );
  // {{/ADD_MODULE}}
  // {{#CARRY_SAVE}}
  // One full adder per bit; the carry out of the MSB is dropped (the partial
  // sum wraps at ACC_BITS like the carry-propagate one).
  wire [ACC_BITS-1:0] psum_d = psum_i ^ psum_c_i ^ prod;
  wire [ACC_BITS-2:0] x = psum_i[ACC_BITS-2:0];
  wire [ACC_BITS-2:0] y = psum_c_i[ACC_BITS-2:0];
  wire [ACC_BITS-2:0] z = prod[ACC_BITS-2:0];
  wire [ACC_BITS-1:0] psum_c_d = {(x & y) | (x & z) | (y & z), 1'b0};
  // {{/CARRY_SAVE}}

  // {{#RAZOR}}

  // Shadow copies of the protected bits, sampled on the delayed clock. In
  // RTL simulation clk_shadow_i is clk_i: the shadow sees the settled psum_d.
  wire [ACC_BITS-1:0] shadow;
  wire [ACC_BITS-1:0] mismatch;
  // {{#CARRY_SAVE}}
  wire [ACC_BITS-1:0] shadow_c;
  // {{/CARRY_SAVE}}
  genvar j;
  generate
    for (j = 0; j < ACC_BITS; j = j + 1) begin : g_bit
      if (RAZOR_MASK[j]) begin : g_razor
        reg shadow_q;
        // {{#CARRY_SAVE}}
        reg shadow_c_q;
        // {{/CARRY_SAVE}}
        always @(posedge clk_shadow_i or negedge rst_ni) begin
          if (!rst_ni) begin
            shadow_q <= 1'b0;
            // {{#CARRY_SAVE}}
            shadow_c_q <= 1'b0;
            // {{/CARRY_SAVE}}
          // {{#RAZOR_CORRECT}}
          end else begin
          // {{/RAZOR_CORRECT}}
          // {{#RAZOR_DROP}}
          end else if (!stall_i) begin
            // Gated like the main register: a stalled PE's inputs are not
            // the next value, so the shadow must not sample them.
          // {{/RAZOR_DROP}}
            shadow_q <= psum_d[j];
            // {{#CARRY_SAVE}}
            shadow_c_q <= psum_c_d[j];
            // {{/CARRY_SAVE}}
          end
        end
        assign shadow[j]   = shadow_q;
        // {{^CARRY_SAVE}}
        assign mismatch[j] = shadow_q ^ psum_q[j];
        // {{/CARRY_SAVE}}
        // {{#CARRY_SAVE}}
        assign shadow_c[j] = shadow_c_q;
        assign mismatch[j] = (shadow_q ^ psum_q[j]) | (shadow_c_q ^ psum_c_q[j]);
        // {{/CARRY_SAVE}}
      end else begin : g_plain
        assign shadow[j]   = psum_q[j];
        // {{#CARRY_SAVE}}
        assign shadow_c[j] = psum_c_q[j];
        // {{/CARRY_SAVE}}
        assign mismatch[j] = 1'b0;
      end
    end
  endgenerate
  // {{#RAZOR_CORRECT}}
  // The last clk_i edge was a stall: psum_q held or was restored, the shadow
  // took the value in flight; the two differ without a late bit.
  reg stalled_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      stalled_q <= 1'b0;
    end else begin
      stalled_q <= stall_i;
    end
  end
  wire err = |mismatch && !stalled_q;
  // {{/RAZOR_CORRECT}}
  // {{#RAZOR_DROP}}
  wire err = |mismatch;
  // {{/RAZOR_DROP}}
  assign err_o = err;
  // {{/RAZOR}}

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q    <= {A_BITS{1'b0}};
      w_q    <= {W_BITS{1'b0}};
      psum_q <= {ACC_BITS{1'b0}};
      // {{#PREC}}
      mode_q <= {MODE_BITS{1'b0}};
      // {{/PREC}}
      // {{#REUSE}}
      nz_q   <= 1'b0;
      // {{/REUSE}}
      // {{#CARRY_SAVE}}
      psum_c_q <= {ACC_BITS{1'b0}};
      // {{/CARRY_SAVE}}
    // {{#STALL}}
    end else if (stall_i) begin
      // {{#RAZOR_CORRECT}}
      // The array holds; a PE that saw a Razor error restores its late bits.
      if (err) begin
        psum_q <= shadow;
        // {{#CARRY_SAVE}}
        psum_c_q <= shadow_c;
        // {{/CARRY_SAVE}}
      end
      // {{/RAZOR_CORRECT}}
    // {{/STALL}}
    end else begin
      // {{^REUSE}}
      a_q    <= a_i;
      // {{/REUSE}}
      // {{#REUSE}}
      nz_q   <= nz_d;
      if (nz_d) begin
        a_q  <= a_i;
      end
      // {{/REUSE}}
      // {{#PREC}}
      mode_q <= mode_i;
      // {{/PREC}}
      if (w_shift_i) begin
        w_q <= w_i;
      end
`ifdef VOSA_INJECT_ERRORS
      // {{^REUSE}}
      psum_q <= psum_d ^ ACC_BITS'($c64("vosa_inject_mask(", ROW + row0_i, ", ", COL + col0_i, ", ", psum_d, ")"));
      // {{/REUSE}}
      // {{#REUSE}}
      psum_q <= (nz_q ? psum_d : psum_i) ^ ACC_BITS'($c64("vosa_inject_mask(", ROW + row0_i, ", ", COL + col0_i, ", ",
                                                          (nz_q ? psum_d : psum_i), ")"));
      // {{/REUSE}}
`else
      // {{^REUSE}}
      psum_q <= psum_d;
      // {{/REUSE}}
      // {{#REUSE}}
      psum_q <= nz_q ? psum_d : psum_i;
      // {{/REUSE}}
`endif
      // {{#CARRY_SAVE}}
`ifdef VOSA_INJECT_ERRORS
      psum_c_q <= psum_c_d ^ ACC_BITS'($c64("vosa_inject_carry_mask(", ROW + row0_i, ", ", COL + col0_i, ")"));
`else
      psum_c_q <= psum_c_d;
`endif
      // {{/CARRY_SAVE}}
    end
  end
  // {{#RAZOR_DROP}}

  // TE-Drop: remember the incoming partial sum so an erroneous cycle can
  // pass it on unchanged.
  reg [ACC_BITS-1:0] psum_in_q;
  // {{#CARRY_SAVE}}
  reg [ACC_BITS-1:0] psum_c_in_q;
  // {{/CARRY_SAVE}}
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      psum_in_q <= {ACC_BITS{1'b0}};
      // {{#CARRY_SAVE}}
      psum_c_in_q <= {ACC_BITS{1'b0}};
      // {{/CARRY_SAVE}}
    end else if (!stall_i) begin
      psum_in_q <= psum_i;
      // {{#CARRY_SAVE}}
      psum_c_in_q <= psum_c_i;
      // {{/CARRY_SAVE}}
    end
  end
  assign psum_o = err ? psum_in_q : psum_q;
  // {{#CARRY_SAVE}}
  assign psum_c_o = err ? psum_c_in_q : psum_c_q;
  wire unused_shadow_c = ^shadow_c;
  // {{/CARRY_SAVE}}
  wire unused_shadow = ^shadow;
  // {{/RAZOR_DROP}}

  // {{^REUSE}}
  assign a_o    = a_q;
  // {{/REUSE}}
  // {{#REUSE}}
  assign a_o    = {A_BITS{nz_q}} & a_q;
  // {{/REUSE}}
  assign w_o    = w_q;
  // {{#PREC}}
  assign mode_o = mode_q;
  // {{/PREC}}
  // {{^RAZOR_DROP}}
  assign psum_o = psum_q;
  // {{/RAZOR_DROP}}
  // {{#CARRY_SAVE}}
  // {{^RAZOR_DROP}}
  assign psum_c_o = psum_c_q;
  // {{/RAZOR_DROP}}
  // {{/CARRY_SAVE}}
endmodule
