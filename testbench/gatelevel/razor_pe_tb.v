// Gate-level Razor check of one synthesized PE (docs/razor_gatelevel.md).
// Icarus, `iverilog -gspecify -Tmax`, cell models with specify blocks and the
// flow's SDF (`SDF_FILE`). testbench/gatelevel/razor_gate.sh writes
// razor_params.vh (widths, RAZOR_MASK, SDF_FILE) and razor_probes.vh (the
// shadow flops of the netlist) and passes the timing as plusargs:
//   +period_ps=  clk_i period         +shadow_ps=  clk_shadow_i = clk_i delayed by this
//   +in_ps=      inputs change this long after the clk_i edge (clock-to-Q of the PE above)
//   +cycles=     operand cycles        +seed=
// Every capture edge of psum_q is compared with a zero-delay reference
// computed here; the shadow flops are probed directly. stall_i is err_o,
// combinational, as in the array (stall = OR of the PEs' err_o), and the
// operands are held after an edge at which stall_i was high.
`timescale 1ns/1ps
`include "razor_params.vh"
module razor_pe_tb;
  localparam integer AB = `A_BITS;
  localparam integer WB = `W_BITS;
  localparam integer ACC = `ACC_BITS;
  localparam [`ACC_BITS-1:0] MASK = `RAZOR_MASK;

  reg clk_i = 0, clk_shadow_i = 0, rst_ni = 0, w_shift_i = 0;
  reg [AB-1:0] a_i = 0;
  reg [WB-1:0] w_i = 0;
  reg [ACC-1:0] psum_i = 0;
  wire [AB-1:0] a_o;
  wire [WB-1:0] w_o;
  wire [ACC-1:0] psum_o;
  wire err_o;
  // As in the array (vosa_top: stall = |col_err, combinational): the PE's
  // own err_o is the whole array's stall.
  wire stall_i = err_o;
  reg was_stall = 0;  // stall_i at the last clk_i edge

  vosa_pe dut (.clk_i(clk_i), .rst_ni(rst_ni), .stall_i(stall_i), .clk_shadow_i(clk_shadow_i),
               .err_o(err_o), .w_shift_i(w_shift_i), .w_i(w_i), .w_o(w_o), .a_i(a_i), .a_o(a_o),
               .psum_i(psum_i), .psum_o(psum_o));

  // Protected bits: shadow flop outputs and data inputs, from the netlist.
  wire [ACC-1:0] shadow_q;
  wire [ACC-1:0] shadow_d;
  `include "razor_probes.vh"

  integer period_ps, shadow_ps, in_ps, cycles, seed;
  initial begin
    $sdf_annotate(`SDF_FILE, dut);
    if (!$value$plusargs("period_ps=%d", period_ps)) period_ps = 10000;
    if (!$value$plusargs("shadow_ps=%d", shadow_ps)) shadow_ps = 1000;
    if (!$value$plusargs("in_ps=%d", in_ps)) in_ps = 300;
    if (!$value$plusargs("cycles=%d", cycles)) cycles = 1000;
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    if (shadow_ps <= 0 || shadow_ps >= period_ps / 2 || in_ps < 0 || in_ps >= period_ps) begin
      $display("ERROR: bad timing: period_ps=%0d shadow_ps=%0d in_ps=%0d", period_ps, shadow_ps, in_ps);
      $finish;
    end
  end

  // The shadow clock: clk_i delayed by shadow_ps (transport delay).
  always @(clk_i) clk_shadow_i <= #(shadow_ps / 1000.0) clk_i;

  // Zero-delay reference of the PE (weight-stationary MAC).
  reg [AB-1:0] ref_aq = 0;
  reg [WB-1:0] ref_wq = 0;
  reg [ACC-1:0] ref_psum = 0;
  function [ACC-1:0] mac(input [ACC-1:0] p, input [AB-1:0] a, input [WB-1:0] w);
    reg signed [ACC+AB+WB:0] sa, sw;
    begin
      if (`SIGNED) begin
        sa = $signed(a); sw = $signed(w);
      end else begin
        sa = {1'b0, a}; sw = {1'b0, w};
      end
      mac = p + sa * sw;
    end
  endfunction

  // Earliest change of a shadow flop's D after a clk_i edge (new data racing
  // the shadow clock: the hold constraint), per run.
  realtime last_edge = 0;
  realtime min_d_change = 1.0e9;
  integer min_d_bit = -1;
  genvar gb;
  generate
    for (gb = 0; gb < ACC; gb = gb + 1) begin : g_watch
      if (MASK[gb]) begin : g_on
        always @(shadow_d[gb]) begin
          if (rst_ni && !was_stall && $realtime - last_edge < min_d_change) begin
            min_d_change = $realtime - last_edge;
            min_d_bit = gb;
          end
        end
      end
    end
  endgenerate

  function integer popcount(input [ACC-1:0] v);
    integer i;
    begin
      popcount = 0;
      for (i = 0; i < ACC; i = i + 1) popcount = popcount + v[i];
    end
  endfunction

  // Clock low half; new operands in_ps after an edge that did not stall.
  always @(posedge clk_i) #(period_ps / 2000.0) clk_i = 0;
  always @(posedge clk_i) begin
    #(in_ps / 1000.0);
    if (!was_stall) begin
      a_i = $random(seed);
      psum_i = {$random(seed), $random(seed)};
      w_shift_i = ($random(seed) & 7) == 0;
      w_i = $random(seed);
    end
  end

  // Counters.
  integer n_cycles = 0, n_stalls = 0, late_cycles = 0, late_bits = 0, late_unprot_bits = 0;
  integer detected = 0, corrected = 0, correction_failed = 0;
  integer missed_cycles = 0, missed_bits = 0, missed_undetected = 0, false_errors = 0, shadow_only_wrong = 0,
          miscorrected = 0;
  integer late_per_bit [0:ACC-1];
  integer missed_per_bit [0:ACC-1];
  integer k, i;
  reg expect_fix;
  reg [ACC-1:0] main_v, late, shadow_bad, fix_ref;

  initial begin
    for (i = 0; i < ACC; i = i + 1) begin late_per_bit[i] = 0; missed_per_bit[i] = 0; end
    #0;
    // Reset, load a first weight.
    #(period_ps / 1000.0 * 2) rst_ni = 1;
    expect_fix = 0;
    was_stall = 0;
    w_shift_i = 1; w_i = $random(seed); a_i = $random(seed); psum_i = $random(seed);
    for (k = 0; k <= cycles + 1; k = k + 1) begin
      // Just before the edge: judge what the previous edge captured.
      #(period_ps / 1000.0 - 0.010);
      if (k >= 2) begin
        main_v = psum_o;
        if (^main_v === 1'bx || ^shadow_q === 1'bx || err_o === 1'bx) begin
          $display("ERROR: X at cycle %0d: psum_o=%h err_o=%b", k, main_v, err_o);
          $finish;
        end
        if (was_stall) begin
          // The stall edge restored psum_q from the shadow.
          if (expect_fix) begin
            if (main_v === fix_ref) corrected = corrected + 1;
            else begin
              correction_failed = correction_failed + 1;
              $display("correction failed at cycle %0d: psum_q %h, reference %h", k, main_v, fix_ref);
            end
          end
          if (err_o) begin
            $display("ERROR: err_o still high after the stall at cycle %0d", k);
            false_errors = false_errors + 1;
          end
        end else begin
          n_cycles = n_cycles + 1;
          late = main_v ^ ref_psum;
          shadow_bad = (shadow_q ^ ref_psum) & MASK;
          if (late != 0) late_cycles = late_cycles + 1;
          late_bits = late_bits + popcount(late & MASK);
          late_unprot_bits = late_unprot_bits + popcount(late & ~MASK);
          for (i = 0; i < ACC; i = i + 1) begin
            if (late[i] && MASK[i]) late_per_bit[i] = late_per_bit[i] + 1;
            if (late[i] && shadow_bad[i]) missed_per_bit[i] = missed_per_bit[i] + 1;
          end
          missed_bits = missed_bits + popcount(late & shadow_bad);
          if ((late & shadow_bad) != 0) begin
            missed_cycles = missed_cycles + 1;
            if (!err_o) missed_undetected = missed_undetected + 1;
          end
          if ((shadow_bad & ~late) != 0) shadow_only_wrong = shadow_only_wrong + 1;
          if (err_o && (late & MASK) == 0) begin
            false_errors = false_errors + 1;
            $display("false error at cycle %0d: psum_q %h shadow %h reference %h", k, main_v, shadow_q, ref_psum);
          end
          if (err_o) detected = detected + 1;
          if (err_o && shadow_bad != 0) miscorrected = miscorrected + 1;
          if (err_o && (late & MASK) != 0 && shadow_bad == 0) begin
            expect_fix = 1; fix_ref = ref_psum;
          end else begin
            expect_fix = 0;
            if ((late & MASK) != 0 && shadow_bad == 0) begin
              correction_failed = correction_failed + 1;
              $display("ERROR: late bits %h with a right shadow but err_o low at cycle %0d", late & MASK, k);
            end
          end
        end
      end
      #0.010;
      // The edge.
      was_stall = stall_i === 1'b1;
      clk_i = 1; last_edge = $realtime;
      if (was_stall) n_stalls = n_stalls + 1;
      else begin
        ref_psum = mac(psum_i, ref_aq, ref_wq);
        ref_aq = a_i;
        if (w_shift_i) ref_wq = w_i;
      end
    end
    $display("RESULT cycles=%0d stalls=%0d late_cycles=%0d late_protected_bits=%0d late_unprotected_bits=%0d detected=%0d corrected=%0d correction_failed=%0d missed_cycles=%0d missed_bits=%0d missed_undetected=%0d false_errors=%0d shadow_only_wrong=%0d min_shadow_d_change_ps=%0d min_shadow_d_bit=%0d miscorrected=%0d",
             n_cycles, n_stalls, late_cycles, late_bits, late_unprot_bits, detected, corrected, correction_failed,
             missed_cycles, missed_bits, missed_undetected, false_errors, shadow_only_wrong,
             $rtoi(min_d_change * 1000.0 + 0.5), min_d_bit, miscorrected);
    for (i = ACC - 1; i >= 0; i = i - 1)
      if (MASK[i]) $display("BIT %0d late=%0d missed=%0d", i, late_per_bit[i], missed_per_bit[i]);
    $finish;
  end
endmodule
