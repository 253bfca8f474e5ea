// Output-stationary systolic array of ROWS x COLS PEs.
// PE (r, c) accumulates the dot product of input row r and weight column c.
// Activations (with valid/first flags) enter on the left, row r skewed by r
// cycles, and flow right; weights enter on top, column c skewed by c cycles,
// and flow down, so both operands of one step meet in every PE. While
// drain_i is high the accumulators shift down one row per cycle and the
// bottom row's values appear on psum_row_o.
module vosa_array #(
  parameter integer ROWS     = {{ROWS}},
  parameter integer COLS     = {{COLS}},
  parameter integer A_BITS   = {{ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer ACC_BITS = {{ACC_BITS}},
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,
  input  wire                     drain_i,
  input  wire                     valid_i,
  input  wire                     first_i,
  input  wire [ROWS*A_BITS-1:0]   a_col_i,
  input  wire [COLS*W_BITS-1:0]   w_row_i,
  output wire [COLS*ACC_BITS-1:0] psum_row_o
);

  // Horizontal nets: index c enters PE column c; c = COLS leaves the array.
  wire [A_BITS-1:0]   a_h     [0:ROWS-1][0:COLS];
  wire                valid_h [0:ROWS-1][0:COLS];
  wire                first_h [0:ROWS-1][0:COLS];
  // Vertical nets: index r enters PE row r; r = ROWS leaves the array.
  wire [W_BITS-1:0]   w_v     [0:ROWS][0:COLS-1];
  wire [ACC_BITS-1:0] psum_v  [0:ROWS][0:COLS-1];

  genvar r, c;
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : g_skew_a
      vosa_delay_line #(
        .WIDTH(A_BITS + 2),
        .DEPTH(r)
      ) u_skew (
        .clk_i (clk_i),
        .rst_ni(rst_ni),
        .d_i   ({valid_i, first_i, a_col_i[r*A_BITS +: A_BITS]}),
        .q_o   ({valid_h[r][0], first_h[r][0], a_h[r][0]})
      );
    end

    for (c = 0; c < COLS; c = c + 1) begin : g_skew_w
      vosa_delay_line #(
        .WIDTH(W_BITS),
        .DEPTH(c)
      ) u_skew (
        .clk_i (clk_i),
        .rst_ni(rst_ni),
        .d_i   (w_row_i[c*W_BITS +: W_BITS]),
        .q_o   (w_v[0][c])
      );
      assign psum_v[0][c] = {ACC_BITS{1'b0}};
      assign psum_row_o[c*ACC_BITS +: ACC_BITS] = psum_v[ROWS][c];
    end

    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        vosa_pe #(
          .A_BITS  (A_BITS),
          .W_BITS  (W_BITS),
          .ACC_BITS(ACC_BITS),
          .SIGNED  (SIGNED)
        ) u_pe (
          .clk_i  (clk_i),
          .rst_ni (rst_ni),
          .drain_i(drain_i),
          .valid_i(valid_h[r][c]),
          .first_i(first_h[r][c]),
          .valid_o(valid_h[r][c+1]),
          .first_o(first_h[r][c+1]),
          .a_i    (a_h[r][c]),
          .a_o    (a_h[r][c+1]),
          .w_i    (w_v[r][c]),
          .w_o    (w_v[r+1][c]),
          .psum_i (psum_v[r][c]),
          .psum_o (psum_v[r+1][c])
        );
      end
    end
  endgenerate

  // Operands leaving the right and bottom edges have no consumer; they exist
  // so every PE is identical. (Verilator ignores signals named unused_*.)
  wire unused_edges;
  generate
    if (1) begin : g_unused
      wire [ROWS*(A_BITS+2)-1:0] a_right;
      wire [COLS*W_BITS-1:0]     w_bottom;
      for (r = 0; r < ROWS; r = r + 1) begin : g_a
        assign a_right[r*(A_BITS+2) +: A_BITS+2] = {valid_h[r][COLS], first_h[r][COLS], a_h[r][COLS]};
      end
      for (c = 0; c < COLS; c = c + 1) begin : g_w
        assign w_bottom[c*W_BITS +: W_BITS] = w_v[ROWS][c];
      end
      assign unused_edges = ^{a_right, w_bottom};
    end
  endgenerate
endmodule
