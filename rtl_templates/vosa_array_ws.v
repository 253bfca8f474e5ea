// Weight-stationary systolic array of ROWS x COLS PEs.
// Activations enter on the left (row r skewed by r cycles), flow right;
// partial sums start at zero on top and flow down; column c's sum leaves
// the bottom and is de-skewed by COLS-1-c cycles so that every column of one
// result row appears in the same cycle, ROWS+COLS cycles after its input.
// Weights shift down each column, one row per w_shift_i cycle.
// {{#CARRY_SAVE}}
// Carry-save partial sums: each column carries a sum and a carry word down;
// at the bottom one carry-propagate adder (vosa_add) per column adds them
// into a register, one cycle before the de-skew (latency ROWS+COLS+1).
// {{/CARRY_SAVE}}
// {{#PREC}}
// Precision modes: col_mode_i[c] is column c's mode; it enters the top of the
// column delayed by c cycles (like the activations' skew) and moves down one
// row per cycle with the partial sums, so every PE computes a vector in the
// mode that was set when the vector entered the array.
// {{/PREC}}
// {{#STALL}}
// While stall_i is high every register of the array holds (Razor correction
// or a voltage change); col_err_o[c] flags a Razor error in column c.
// {{/STALL}}
// {{#DW}}
// Depthwise mode (docs/rtl.md, "Depthwise mode"): while dw_mode_i is high,
// PE (r, c) takes its activation from lane r / DW_GROUP of column c on
// a_dw_i (lane l of column c at bits (c*DW_LANES + l)*A_BITS) instead of
// from its left neighbour: each column computes its own channel, each
// group of DW_GROUP rows one kernel row's taps of it. A lane's value is
// broadcast to its group, so at vector t row r0 + i of a group starting at
// row r0 meets the value its lane carried for vector t + i: a sliding
// window along the image row at one output per cycle. The lanes are not
// skewed inside the array: whoever feeds lane l of column c presents the
// value for vector t at the cycle row l*DW_GROUP's activation of vector t
// would have entered column c, c + l*DW_GROUP cycles after the vector.
// {{/DW}}
module vosa_array #(
  parameter integer ROWS     = {{ROWS}},
  parameter integer COLS     = {{COLS}},
  parameter integer A_BITS   = {{PE_ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer ACC_BITS = {{ACC_BITS}},
  // {{#TILED}}
  parameter integer TILE_ROWS = {{TILE_ROWS}},
  parameter integer TILE_COLS = {{TILE_COLS}},
  // {{/TILED}}
  // {{#PREC}}
  parameter integer MODE_BITS = {{MODE_BITS}},
  parameter [(1<<MODE_BITS)*A_BITS-1:0] A_KEEP = {{A_KEEP}},
  parameter [(1<<MODE_BITS)*W_BITS-1:0] W_KEEP = {{W_KEEP}},
  // {{/PREC}}
  // {{#RAZOR}}
  parameter [ACC_BITS-1:0] RAZOR_MASK = {{RAZOR_MASK}},
  // {{/RAZOR}}
  // {{#DW}}
  parameter integer DW_GROUP = {{DW_GROUP}},
  parameter integer DW_LANES = {{DW_LANES}},
  // {{/DW}}
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,
  // {{#STALL}}
  input  wire                     stall_i,
  // {{/STALL}}
  // {{#RAZOR}}
  input  wire                     clk_shadow_i,
  output wire [COLS-1:0]          col_err_o,
  // {{/RAZOR}}
  // {{#PREC}}
  input  wire [COLS*MODE_BITS-1:0] col_mode_i,
  // {{/PREC}}
  input  wire                     w_shift_i,
  input  wire [COLS*W_BITS-1:0]   w_row_i,
  input  wire [ROWS*A_BITS-1:0]   a_col_i,
  // {{#DW}}
  input  wire                     dw_mode_i,
  input  wire [COLS*DW_LANES*A_BITS-1:0] a_dw_i,
  // {{/DW}}
  output wire [COLS*ACC_BITS-1:0] psum_row_o
);

  // Horizontal activation nets: a_h[r][c] enters PE (r, c); c = COLS leaves the array.
  wire [A_BITS-1:0]   a_h    [0:ROWS-1][0:COLS];
  // Vertical nets: index r enters PE row r; r = ROWS leaves the array.
  wire [W_BITS-1:0]   w_v    [0:ROWS][0:COLS-1];
  wire [ACC_BITS-1:0] psum_v [0:ROWS][0:COLS-1];
  // {{#TILED}}
  // Tile-wide buses between tiles; split_var makes each element its own
  // net, so that no path from a tile's inputs to its outputs is seen.
  wire [TILE_ROWS*A_BITS-1:0]   a_t    [0:ROWS/TILE_ROWS-1][0:COLS/TILE_COLS] /*verilator split_var*/;
  wire [TILE_COLS*W_BITS-1:0]   w_t    [0:ROWS/TILE_ROWS][0:COLS/TILE_COLS-1] /*verilator split_var*/;
  wire [TILE_COLS*ACC_BITS-1:0] psum_t [0:ROWS/TILE_ROWS][0:COLS/TILE_COLS-1] /*verilator split_var*/;
  // {{/TILED}}
  // {{#CARRY_SAVE}}
  wire [ACC_BITS-1:0] psum_c_v [0:ROWS][0:COLS-1];
  // col_sum[c]: column c's registered carry-propagate sum.
  wire [ACC_BITS-1:0] col_sum  [0:COLS-1];
  // {{/CARRY_SAVE}}
  // {{#RAZOR}}
  wire [ROWS-1:0]     err_v  [0:COLS-1];
  // {{/RAZOR}}
  // {{#PREC}}
  wire [MODE_BITS-1:0] mode_v [0:ROWS][0:COLS-1];
  // {{/PREC}}

  genvar r, c;
  // {{#TILED}}
  genvar i;
  // {{/TILED}}
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : g_skew
      vosa_delay_line #(
        .WIDTH(A_BITS),
        .DEPTH(r)
      ) u_skew (
        .clk_i (clk_i),
        .rst_ni(rst_ni),
        // {{#STALL}}
        .en_i  (!stall_i),
        // {{/STALL}}
        .d_i   (a_col_i[r*A_BITS +: A_BITS]),
        .q_o   (a_h[r][0])
      );
    end

    // {{#PREC}}
    for (c = 0; c < COLS; c = c + 1) begin : g_mode_skew
      vosa_delay_line #(
        .WIDTH(MODE_BITS),
        .DEPTH(c)
      ) u_mode_skew (
        .clk_i (clk_i),
        .rst_ni(rst_ni),
        // {{#STALL}}
        .en_i  (!stall_i),
        // {{/STALL}}
        .d_i   (col_mode_i[c*MODE_BITS +: MODE_BITS]),
        .q_o   (mode_v[0][c])
      );
    end

    // {{/PREC}}
    for (c = 0; c < COLS; c = c + 1) begin : g_top
      assign w_v[0][c]    = w_row_i[c*W_BITS +: W_BITS];
      assign psum_v[0][c] = {ACC_BITS{1'b0}};
      // {{#CARRY_SAVE}}
      assign psum_c_v[0][c] = {ACC_BITS{1'b0}};
      // {{/CARRY_SAVE}}
    end

    // {{#TILED}}
    // A grid of identical TILE_ROWS x TILE_COLS tiles (vosa_tile), chained
    // through tile-wide buses: a_t[i][j] enters tile (i, j) from the left,
    // w_t[i][j] and psum_t[i][j] from above.
    for (r = 0; r < ROWS / TILE_ROWS; r = r + 1) begin : g_tile_edge_row
      for (i = 0; i < TILE_ROWS; i = i + 1) begin : g_a
        assign a_t[r][0][i*A_BITS +: A_BITS]         = a_h[r*TILE_ROWS+i][0];
        assign a_h[r*TILE_ROWS+i][COLS]              = a_t[r][COLS/TILE_COLS][i*A_BITS +: A_BITS];
      end
    end
    for (c = 0; c < COLS / TILE_COLS; c = c + 1) begin : g_tile_edge_col
      for (i = 0; i < TILE_COLS; i = i + 1) begin : g_wp
        assign w_t[0][c][i*W_BITS +: W_BITS]         = w_v[0][c*TILE_COLS+i];
        assign psum_t[0][c][i*ACC_BITS +: ACC_BITS]  = psum_v[0][c*TILE_COLS+i];
        assign w_v[ROWS][c*TILE_COLS+i]              = w_t[ROWS/TILE_ROWS][c][i*W_BITS +: W_BITS];
        assign psum_v[ROWS][c*TILE_COLS+i]           = psum_t[ROWS/TILE_ROWS][c][i*ACC_BITS +: ACC_BITS];
      end
    end
    for (r = 0; r < ROWS / TILE_ROWS; r = r + 1) begin : g_tile_row
      for (c = 0; c < COLS / TILE_COLS; c = c + 1) begin : g_tile_col
        vosa_tile #(
          .TILE_ROWS(TILE_ROWS),
          .TILE_COLS(TILE_COLS),
          .A_BITS   (A_BITS),
          .W_BITS   (W_BITS),
          .ACC_BITS (ACC_BITS),
          .SIGNED   (SIGNED)
        ) u_tile (
          .clk_i    (clk_i),
          .rst_ni   (rst_ni),
`ifdef VOSA_INJECT_ERRORS
          // The tile's origin as ports: every tile stays one Verilated class.
          .row0_i   (r * TILE_ROWS),
          .col0_i   (c * TILE_COLS),
`endif
          .w_shift_i(w_shift_i),
          .w_i      (w_t[r][c]),
          .w_o      (w_t[r+1][c]),
          .a_i      (a_t[r][c]),
          .a_o      (a_t[r][c+1]),
          .psum_i   (psum_t[r][c]),
          .psum_o   (psum_t[r+1][c])
        );
      end
    end
    // {{/TILED}}
    // {{^TILED}}
    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        // {{#DW}}
        // The PE's activation: its lane in depthwise mode, else its left neighbour's.
        wire [A_BITS-1:0] a_pe = dw_mode_i ? a_dw_i[(c*DW_LANES + r/DW_GROUP)*A_BITS +: A_BITS] : a_h[r][c];
        // {{/DW}}
        vosa_pe #(
`ifdef VOSA_INJECT_ERRORS
          .ROW       (r),
          .COL       (c),
`endif
          // {{#RAZOR}}
          .RAZOR_MASK(RAZOR_MASK),
          // {{/RAZOR}}
          // {{#PREC}}
          .MODE_BITS(MODE_BITS),
          .A_KEEP  (A_KEEP),
          .W_KEEP  (W_KEEP),
          // {{/PREC}}
          .A_BITS  (A_BITS),
          .W_BITS  (W_BITS),
          .ACC_BITS(ACC_BITS),
          .SIGNED  (SIGNED)
        ) u_pe (
          .clk_i    (clk_i),
          .rst_ni   (rst_ni),
`ifdef VOSA_INJECT_ERRORS
          .row0_i   (32'd0),
          .col0_i   (32'd0),
`endif
          // {{#STALL}}
          .stall_i  (stall_i),
          // {{/STALL}}
          // {{#RAZOR}}
          .clk_shadow_i(clk_shadow_i),
          .err_o    (err_v[c][r]),
          // {{/RAZOR}}
          // {{#PREC}}
          .mode_i   (mode_v[r][c]),
          .mode_o   (mode_v[r+1][c]),
          // {{/PREC}}
          .w_shift_i(w_shift_i),
          .w_i      (w_v[r][c]),
          .w_o      (w_v[r+1][c]),
          // {{^DW}}
          .a_i      (a_h[r][c]),
          // {{/DW}}
          // {{#DW}}
          .a_i      (a_pe),
          // {{/DW}}
          .a_o      (a_h[r][c+1]),
          .psum_i   (psum_v[r][c]),
          // {{#CARRY_SAVE}}
          .psum_c_i (psum_c_v[r][c]),
          .psum_c_o (psum_c_v[r+1][c]),
          // {{/CARRY_SAVE}}
          .psum_o   (psum_v[r+1][c])
        );
      end
    end
    // {{/TILED}}

    // {{#RAZOR}}
    for (c = 0; c < COLS; c = c + 1) begin : g_col_err
      assign col_err_o[c] = |err_v[c];
    end
    // {{/RAZOR}}

    // {{#CARRY_SAVE}}
    for (c = 0; c < COLS; c = c + 1) begin : g_cpa
      wire [ACC_BITS-1:0] sum;
      reg  [ACC_BITS-1:0] sum_q;

      vosa_add #(
        .WIDTH(ACC_BITS)
      ) u_add (
        .a_i  (psum_v[ROWS][c]),
        .b_i  (psum_c_v[ROWS][c]),
        .sum_o(sum)
      );

      // Held while the array stalls (Razor correction, voltage change), like
      // the PEs and the de-skew registers, so the stalled cycle leaves no trace.
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          sum_q <= {ACC_BITS{1'b0}};
        // {{#STALL}}
        end else if (!stall_i) begin
        // {{/STALL}}
        // {{^STALL}}
        end else begin
        // {{/STALL}}
          sum_q <= sum;
        end
      end
      assign col_sum[c] = sum_q;
    end

    // {{/CARRY_SAVE}}
    for (c = 0; c < COLS; c = c + 1) begin : g_deskew
      vosa_delay_line #(
        .WIDTH(ACC_BITS),
        .DEPTH(COLS - 1 - c)
      ) u_deskew (
        .clk_i (clk_i),
        .rst_ni(rst_ni),
        // {{#STALL}}
        .en_i  (!stall_i),
        // {{/STALL}}
        // {{^CARRY_SAVE}}
        .d_i   (psum_v[ROWS][c]),
        // {{/CARRY_SAVE}}
        // {{#CARRY_SAVE}}
        .d_i   (col_sum[c]),
        // {{/CARRY_SAVE}}
        .q_o   (psum_row_o[c*ACC_BITS +: ACC_BITS])
      );
    end
  endgenerate

  // The activations leaving the right edge and the weights leaving the
  // bottom edge have no consumer; they exist so every PE is identical.
  // (Verilator ignores signals named unused_*.)
  wire unused_edges;
  generate
    if (1) begin : g_unused
      wire [ROWS*A_BITS-1:0] a_right;
      wire [COLS*W_BITS-1:0] w_bottom;
      for (r = 0; r < ROWS; r = r + 1) begin : g_a
        assign a_right[r*A_BITS +: A_BITS] = a_h[r][COLS];
      end
      for (c = 0; c < COLS; c = c + 1) begin : g_w
        assign w_bottom[c*W_BITS +: W_BITS] = w_v[ROWS][c];
      end
      assign unused_edges = ^{a_right, w_bottom};
    end
  endgenerate
  // {{#PREC}}
  wire unused_mode_bottom;
  generate
    if (1) begin : g_unused_mode
      wire [COLS*MODE_BITS-1:0] mode_bottom;
      for (c = 0; c < COLS; c = c + 1) begin : g_m
        assign mode_bottom[c*MODE_BITS +: MODE_BITS] = mode_v[ROWS][c];
      end
      assign unused_mode_bottom = ^mode_bottom;
    end
  endgenerate
  // {{/PREC}}
endmodule
