// Top level of a weight-stationary array: a streaming interface.
//
// {{#BUFFERS}}
//   Buffers (docs/sram.md, "RTL buffers"): weights and activations reach the
//     array only through two single-port SRAMs (vosa_sram_sp, the macro
//     boundary), u_wbuf (WBUF_DEPTH words of one weight row, COLS*W_BITS
//     bits, element c at bits c*W_BITS) and u_abuf (ABUF_DEPTH words of one
//     input vector, ROWS*A_BITS bits, element r at bits r*A_BITS).
//     *buf_we_i writes *buf_wdata_i at *buf_addr_i. *buf_re_i reads the
//     word at *buf_addr_i; one cycle later it enters the array as the
//     w_valid_i / in_valid_i of the unbuffered top below would: a weight
//     row shifted in, or an input vector accepted. One port: a write and a
//     read of the same buffer in one cycle is the write only.
// {{#STALL}}
//     A read is taken only while in_ready_o is high; a word read just before
//     a stall waits in the SRAM's output until the stall ends.
// {{/STALL}}
//   The paragraphs below describe the array behind the buffers.
// {{/BUFFERS}}
//   Weights: while busy_o is low, present one row of weights per cycle on
//     w_row_i with w_valid_i high, ROWS times, bottom row (ROWS-1) first.
//     Element c of w_row_i goes to column c.
//   Activations: present one input vector per cycle on a_vec_i with
//     in_valid_i high (element r goes to array row r, i.e. it multiplies the
//     weights of row r). Vectors may be sent back to back.
//   Results: LATENCY cycles after an accepted vector, out_valid_o is high and
//     out_vec_o holds one ACC_BITS-wide dot product per column (element c is
//     the sum over r of a_vec[r] * w[r][c], wrapped to ACC_BITS bits).
//   busy_o is high while any accepted vector is still in flight.
// {{#REUSE}}
//   Computation reuse: with each vector a_vec_i (this inference's quantized
//     activations) comes a_prev_vec_i, the previous inference's activations
//     of the same GEMM row (from the input store outside the array). The
//     array multiplies their difference (A_BITS + 1 bits); a PE whose
//     difference is zero skips its MAC (vosa_pe). out_vec_o is then the sum
//     of the deltas' products, which the accumulation buffer outside the
//     array adds to the previous inference's outputs (docs/reuse.md,
//     "Hardware"). A vector whose operands are all unchanged need not be sent.
// {{/REUSE}}
// {{#DW}}
//   Depthwise mode (docs/rtl.md, "Depthwise mode"): while dw_mode_i is
//     high, PE (r, c) multiplies lane r / DW_GROUP of column c of a_dw_i
//     (DW_LANES lanes per column; lane l of column c at bits
//     (c*DW_LANES + l)*A_BITS) instead of the row stream a_vec_i (keep it
//     zero). Vectors are still accepted with in_valid_i and their results
//     leave LATENCY cycles later, but the lanes are not skewed or gated by
//     the top: lane l of column c carries vector t's value c + l*DW_GROUP
//     cycles after vector t is accepted (zero when no vector is due), and
//     row r0 + i of lane l's group (r0 = l*DW_GROUP) multiplies the value
//     its lane carries for vector t + i. Change dw_mode_i only while busy_o
//     is low.
// {{/DW}}
// {{#STALL}}
//   Stalls: a weight row or vector is accepted only in a cycle where
//     in_ready_o is high; while it is low the whole array holds (a Razor
//     correction or a voltage change) and LATENCY counts only cycles in which
//     in_ready_o was high.
// {{/STALL}}
// {{#RAZOR}}
//   clk_shadow_i: the Razor shadow clock, clk_i delayed by the shadow delay
//     (in RTL simulation, clk_i itself).
// {{/RAZOR}}
// {{#PREC}}
//   Precision modes: register MODE[i] (word address 0x300 + i, one per
//     island; one for the whole array without islands) holds the mode index
//     of island i's columns: mode m computes each operand at PRECISION_MODES
//     entry m bits (0 = full width, the reset value). A write applies to every
//     vector accepted after it; vectors in flight finish in their own mode,
//     so a switch mid-stream loses nothing. Writes of an index >= MODES are
//     ignored. Read: the current index.
// {{/PREC}}
// {{#STALL}}
//   Voltage islands: see vosa_island_ctrl for the register interface
//     (reg_*) and the regulator handshake (vreq_o, vlevel_o, vack_i).
// {{/STALL}}
module vosa_top #(
  parameter integer ROWS     = {{ROWS}},
  parameter integer COLS     = {{COLS}},
  parameter integer A_BITS   = {{ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer ACC_BITS = {{ACC_BITS}},
  // {{#BUFFERS}}
  parameter integer WBUF_DEPTH = {{WBUF_DEPTH}},
  parameter integer WBUF_AW    = {{WBUF_AW}},
  parameter integer ABUF_DEPTH = {{ABUF_DEPTH}},
  parameter integer ABUF_AW    = {{ABUF_AW}},
  // {{/BUFFERS}}
  // {{#PREC}}
  // Modes (widths {{PRECISION_MODES}}); masks of mode m at bits m*A_BITS / m*W_BITS.
  parameter integer MODES     = {{MODES}},
  parameter integer MODE_BITS = {{MODE_BITS}},
  parameter integer MODE_REGS = {{MODE_REGS}},
  parameter [(1<<MODE_BITS)*A_BITS-1:0] A_KEEP = {{A_KEEP}},
  parameter [(1<<MODE_BITS)*W_BITS-1:0] W_KEEP = {{W_KEEP}},
  // Bits c*8 +: 8: the MODE register of column c.
  parameter [COLS*8-1:0] MODE_REG_OF_COL = {{MODE_REG_OF_COL}},
  // {{/PREC}}
  // {{#RAZOR}}
  parameter [ACC_BITS-1:0] RAZOR_MASK = {{RAZOR_MASK}},
  // {{/RAZOR}}
  // {{#STALL}}
  parameter integer ISLANDS    = {{ISLANDS}},
  parameter integer LEVEL_BITS = {{LEVEL_BITS}},
  // {{/STALL}}
  // {{#DW}}
  parameter integer DW_GROUP = {{DW_GROUP}},
  parameter integer DW_LANES = {{DW_LANES}},
  // {{/DW}}
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,
  // {{#RAZOR}}
  input  wire                     clk_shadow_i,
  // {{/RAZOR}}
  // {{^BUFFERS}}
  input  wire                     w_valid_i,
  input  wire [COLS*W_BITS-1:0]   w_row_i,
  input  wire                     in_valid_i,
  input  wire [ROWS*A_BITS-1:0]   a_vec_i,
  // {{/BUFFERS}}
  // {{#BUFFERS}}
  input  wire                     wbuf_we_i,
  input  wire                     wbuf_re_i,
  input  wire [WBUF_AW-1:0]       wbuf_addr_i,
  input  wire [COLS*W_BITS-1:0]   wbuf_wdata_i,
  input  wire                     abuf_we_i,
  input  wire                     abuf_re_i,
  input  wire [ABUF_AW-1:0]       abuf_addr_i,
  input  wire [ROWS*A_BITS-1:0]   abuf_wdata_i,
  // {{/BUFFERS}}
  // {{#REUSE}}
  input  wire [ROWS*A_BITS-1:0]   a_prev_vec_i,
  // {{/REUSE}}
  // {{#DW}}
  input  wire                     dw_mode_i,
  input  wire [COLS*DW_LANES*A_BITS-1:0] a_dw_i,
  // {{/DW}}
  // {{#STALL}}
  output wire                     in_ready_o,
  // {{/STALL}}
  // {{#REG_BUS}}
  input  wire                     reg_we_i,
  input  wire [11:0]              reg_addr_i,
  input  wire [31:0]              reg_wdata_i,
  output wire [31:0]              reg_rdata_o,
  // {{/REG_BUS}}
  // {{#STALL}}
  output wire [ISLANDS-1:0]       vreq_o,
  output wire [ISLANDS*LEVEL_BITS-1:0] vlevel_o,
  input  wire [ISLANDS-1:0]       vack_i,
  output wire [ISLANDS*LEVEL_BITS-1:0] level_o,
  // {{/STALL}}
  output wire                     out_valid_o,
  output wire [COLS*ACC_BITS-1:0] out_vec_o,
  output wire                     busy_o
);

  // {{^CARRY_SAVE}}
  localparam integer LATENCY = ROWS + COLS;
  // {{/CARRY_SAVE}}
  // {{#CARRY_SAVE}}
  // One more cycle: the register after each column's carry-propagate adder.
  localparam integer LATENCY = ROWS + COLS + 1;
  // {{/CARRY_SAVE}}

  // {{#BUFFERS}}
  // The buffers: a word read in one cycle enters the array in the next.
  wire                   wbuf_read;
  wire                   abuf_read;
  reg                    wbuf_read_q;
  reg                    abuf_read_q;
  wire [COLS*W_BITS-1:0] wbuf_rdata;
  wire [ROWS*A_BITS-1:0] abuf_rdata;

  vosa_sram_sp #(
    .DEPTH    (WBUF_DEPTH),
    .WIDTH    (COLS*W_BITS),
    .ADDR_BITS(WBUF_AW),
    .FAULT_PLUSARG("vosa_wbuf_faults=%s")
  ) u_wbuf (
    .clk_i  (clk_i),
    .req_i  (wbuf_we_i || wbuf_read),
    .we_i   (wbuf_we_i),
    .addr_i (wbuf_addr_i),
    .wdata_i(wbuf_wdata_i),
    .rdata_o(wbuf_rdata)
  );

  vosa_sram_sp #(
    .DEPTH    (ABUF_DEPTH),
    .WIDTH    (ROWS*A_BITS),
    .ADDR_BITS(ABUF_AW),
    .FAULT_PLUSARG("vosa_abuf_faults=%s")
  ) u_abuf (
    .clk_i  (clk_i),
    .req_i  (abuf_we_i || abuf_read),
    .we_i   (abuf_we_i),
    .addr_i (abuf_addr_i),
    .wdata_i(abuf_wdata_i),
    .rdata_o(abuf_rdata)
  );

  // {{/BUFFERS}}
  // {{^STALL}}
  // {{^BUFFERS}}
  wire accept_w = w_valid_i;
  wire accept_a = in_valid_i;
  // {{/BUFFERS}}
  // {{#BUFFERS}}
  assign wbuf_read = wbuf_re_i && !wbuf_we_i;
  assign abuf_read = abuf_re_i && !abuf_we_i;
  wire   accept_w  = wbuf_read_q;
  wire   accept_a  = abuf_read_q;
  // {{/BUFFERS}}
  // {{/STALL}}
  // {{#STALL}}
  // The array holds in a stall cycle; inputs are taken only when ready.
  wire stall;
  // {{^BUFFERS}}
  wire accept_w = w_valid_i && !stall;
  wire accept_a = in_valid_i && !stall;
  // {{/BUFFERS}}
  // {{#BUFFERS}}
  assign wbuf_read = wbuf_re_i && !wbuf_we_i && !stall;
  assign abuf_read = abuf_re_i && !abuf_we_i && !stall;
  wire   accept_w  = wbuf_read_q && !stall;
  wire   accept_a  = abuf_read_q && !stall;
  // {{/BUFFERS}}
  // {{/STALL}}
  // {{#BUFFERS}}

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wbuf_read_q <= 1'b0;
      abuf_read_q <= 1'b0;
    // {{#STALL}}
    end else if (!stall) begin
    // {{/STALL}}
    // {{^STALL}}
    end else begin
    // {{/STALL}}
      wbuf_read_q <= wbuf_read;
      abuf_read_q <= abuf_read;
    end
  end
  // {{/BUFFERS}}

  // valid_q[k] is high when the vector accepted k+1 (unstalled) cycles ago was valid.
  reg [LATENCY-1:0] valid_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= {LATENCY{1'b0}};
    // {{#STALL}}
    end else if (!stall) begin
    // {{/STALL}}
    // {{^STALL}}
    end else begin
    // {{/STALL}}
      valid_q <= {valid_q[LATENCY-2:0], accept_a};
    end
  end

  // {{^REUSE}}
  // Invalid cycles still flow through the array; zeroing their activations
  // keeps the datapath quiet (and the results of valid rows unaffected).
  // {{^BUFFERS}}
  wire [ROWS*A_BITS-1:0] a_gated = accept_a ? a_vec_i : {ROWS*A_BITS{1'b0}};
  // {{/BUFFERS}}
  // {{#BUFFERS}}
  wire [ROWS*A_BITS-1:0] a_gated = accept_a ? abuf_rdata : {ROWS*A_BITS{1'b0}};
  // {{/BUFFERS}}
  // {{/REUSE}}
  // {{#REUSE}}
  // The activation deltas, sign-extended differences; invalid cycles carry
  // zero deltas, which every PE skips.
  localparam integer D_BITS = A_BITS + 1;
  wire [ROWS*D_BITS-1:0] a_delta;
  genvar di;
  generate
    for (di = 0; di < ROWS; di = di + 1) begin : g_delta
      wire [A_BITS-1:0] a_new  = a_vec_i[di*A_BITS +: A_BITS];
      wire [A_BITS-1:0] a_prev = a_prev_vec_i[di*A_BITS +: A_BITS];
      assign a_delta[di*D_BITS +: D_BITS] = {a_new[A_BITS-1], a_new} - {a_prev[A_BITS-1], a_prev};
    end
  endgenerate
  wire [ROWS*D_BITS-1:0] a_gated = accept_a ? a_delta : {ROWS*D_BITS{1'b0}};
  // {{/REUSE}}
  // {{#RAZOR}}
  wire [COLS-1:0] col_err;
  // {{/RAZOR}}

  // {{#PREC}}
  // MODE registers and each column's mode (the register of its island).
  wire                      mode_sel = reg_addr_i[11:8] == 4'h3;
  wire [7:0]                mode_idx = reg_addr_i[7:0];
  reg  [MODE_REGS*MODE_BITS-1:0] modes_q;
  wire [COLS*MODE_BITS-1:0] col_mode;
  genvar mi;
  generate
    for (mi = 0; mi < MODE_REGS; mi = mi + 1) begin : g_mode_reg
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          modes_q[mi*MODE_BITS +: MODE_BITS] <= {MODE_BITS{1'b0}};
        end else if (reg_we_i && mode_sel && mode_idx == mi && reg_wdata_i < MODES) begin
          modes_q[mi*MODE_BITS +: MODE_BITS] <= reg_wdata_i[MODE_BITS-1:0];
        end
      end
    end
    for (mi = 0; mi < COLS; mi = mi + 1) begin : g_col_mode
      localparam integer REG = {24'd0, MODE_REG_OF_COL[mi*8 +: 8]};
      assign col_mode[mi*MODE_BITS +: MODE_BITS] = modes_q[REG*MODE_BITS +: MODE_BITS];
    end
  endgenerate
  wire [31:0] mode_rdata = ({24'd0, mode_idx} < MODE_REGS)
                           ? {{(32-MODE_BITS){1'b0}}, modes_q[mode_idx*MODE_BITS +: MODE_BITS]}
                           : 32'd0;
  // {{^STALL}}
  assign reg_rdata_o = mode_sel ? mode_rdata : 32'd0;
  // {{/STALL}}

  // {{/PREC}}
  vosa_array #(
    .ROWS    (ROWS),
    .COLS    (COLS),
    // {{^REUSE}}
    .A_BITS  (A_BITS),
    // {{/REUSE}}
    // {{#REUSE}}
    .A_BITS  (D_BITS),
    // {{/REUSE}}
    .W_BITS  (W_BITS),
    .ACC_BITS(ACC_BITS),
    // {{#RAZOR}}
    .RAZOR_MASK(RAZOR_MASK),
    // {{/RAZOR}}
    // {{#PREC}}
    .MODE_BITS(MODE_BITS),
    .A_KEEP  (A_KEEP),
    .W_KEEP  (W_KEEP),
    // {{/PREC}}
    // {{#DW}}
    .DW_GROUP(DW_GROUP),
    .DW_LANES(DW_LANES),
    // {{/DW}}
    .SIGNED  (SIGNED)
  ) u_array (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    // {{#STALL}}
    .stall_i   (stall),
    // {{/STALL}}
    // {{#RAZOR}}
    .clk_shadow_i(clk_shadow_i),
    .col_err_o (col_err),
    // {{/RAZOR}}
    // {{#PREC}}
    .col_mode_i(col_mode),
    // {{/PREC}}
    .w_shift_i (accept_w),
    // {{^BUFFERS}}
    .w_row_i   (w_row_i),
    // {{/BUFFERS}}
    // {{#BUFFERS}}
    .w_row_i   (wbuf_rdata),
    // {{/BUFFERS}}
    .a_col_i   (a_gated),
    // {{#DW}}
    .dw_mode_i (dw_mode_i),
    .a_dw_i    (a_dw_i),
    // {{/DW}}
    .psum_row_o(out_vec_o)
  );
  // {{#STALL}}

  // Razor correction stalls the array for one cycle per erroneous cycle
  // (policy "correct"); TE-Drop ("drop") never stalls.
  // {{#RAZOR_CORRECT}}
  wire razor_stall = |col_err;
  // {{/RAZOR_CORRECT}}
  // {{^RAZOR_CORRECT}}
  wire razor_stall = 1'b0;
  // {{/RAZOR_CORRECT}}
  // {{^RAZOR}}
  wire [COLS-1:0] col_err = {COLS{1'b0}};
  // {{/RAZOR}}
  wire [ISLANDS-1:0] island_busy;
  // {{#PREC}}
  wire [31:0]        ctrl_rdata;
  assign reg_rdata_o = mode_sel ? mode_rdata : ctrl_rdata;
  // {{/PREC}}

  vosa_island_ctrl u_ctrl (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .reg_we_i     (reg_we_i),
    .reg_addr_i   (reg_addr_i),
    .reg_wdata_i  (reg_wdata_i),
    // {{^PREC}}
    .reg_rdata_o  (reg_rdata_o),
    // {{/PREC}}
    // {{#PREC}}
    .reg_rdata_o  (ctrl_rdata),
    // {{/PREC}}
    .vreq_o       (vreq_o),
    .vlevel_o     (vlevel_o),
    .vack_i       (vack_i),
    .col_err_i    (col_err),
    .razor_stall_i(razor_stall),
    .busy_o       (island_busy),
    .level_o      (level_o)
  );

  // An island whose voltage moves stalls the whole array: activations and
  // partial sums cross every island, so no island can run ahead alone.
  assign stall      = razor_stall || (|island_busy);
  assign in_ready_o = !stall;
  assign out_valid_o = valid_q[LATENCY-1] && !stall;
  // {{/STALL}}
  // {{^STALL}}

  assign out_valid_o = valid_q[LATENCY-1];
  // {{/STALL}}
  assign busy_o      = |valid_q;
endmodule
