// A TILE_ROWS x TILE_COLS block of weight-stationary PEs, wired exactly as
// the same PEs are inside vosa_array: activations enter on the left and leave
// on the right, weights shift down, partial sums flow down. The array is a
// grid of identical tiles, so tools build one tile and instantiate it:
// the Verilator model keeps the module (no_inline_module below: one C++ class whose
// code every tile instance shares) and Yosys synthesizes it once
// (docs/rtl.md, "Tiles").
// Every output is a PE register, so no combinational path crosses a tile.
module vosa_tile #(
  parameter integer TILE_ROWS = {{TILE_ROWS}},
  parameter integer TILE_COLS = {{TILE_COLS}},
  parameter integer A_BITS    = {{ACT_BITS}},
  parameter integer W_BITS    = {{WEIGHT_BITS}},
  parameter integer ACC_BITS  = {{ACC_BITS}},
  parameter integer SIGNED    = {{SIGNED}}
) (
  input  wire                          clk_i,
  input  wire                          rst_ni,
`ifdef VOSA_INJECT_ERRORS
  // Array coordinates of PE (0, 0) of this tile, for the injection hook
  // (ports, not parameters: one Verilated class for every tile).
  input  wire [31:0]                   row0_i /*verilator public*/,
  input  wire [31:0]                   col0_i /*verilator public*/,
`endif
  input  wire                          w_shift_i,
  input  wire [TILE_COLS*W_BITS-1:0]   w_i /*verilator public*/,
  output wire [TILE_COLS*W_BITS-1:0]   w_o /*verilator public*/,
  input  wire [TILE_ROWS*A_BITS-1:0]   a_i /*verilator public*/,
  output wire [TILE_ROWS*A_BITS-1:0]   a_o /*verilator public*/,
  input  wire [TILE_COLS*ACC_BITS-1:0] psum_i /*verilator public*/,
  output wire [TILE_COLS*ACC_BITS-1:0] psum_o /*verilator public*/
);
  /*verilator no_inline_module*/
  // The data ports are public so that Verilator keeps them as the tile's own
  // variables: otherwise it substitutes the neighbours' registers into the
  // tile's code, and every instance gets its own copy of that code.

  // split_var: each element is its own net for Verilator, which otherwise
  // sees a_i -> a_h -> a_o as one variable, i.e. a combinational path.
  wire [A_BITS-1:0]   a_h    [0:TILE_ROWS-1][0:TILE_COLS] /*verilator split_var*/;
  wire [W_BITS-1:0]   w_v    [0:TILE_ROWS][0:TILE_COLS-1] /*verilator split_var*/;
  wire [ACC_BITS-1:0] psum_v [0:TILE_ROWS][0:TILE_COLS-1] /*verilator split_var*/;

  genvar r, c;
  generate
    for (r = 0; r < TILE_ROWS; r = r + 1) begin : g_edge_row
      assign a_h[r][0] = a_i[r*A_BITS +: A_BITS];
      assign a_o[r*A_BITS +: A_BITS] = a_h[r][TILE_COLS];
    end
    for (c = 0; c < TILE_COLS; c = c + 1) begin : g_edge_col
      assign w_v[0][c]    = w_i[c*W_BITS +: W_BITS];
      assign psum_v[0][c] = psum_i[c*ACC_BITS +: ACC_BITS];
      assign w_o[c*W_BITS +: W_BITS]         = w_v[TILE_ROWS][c];
      assign psum_o[c*ACC_BITS +: ACC_BITS]  = psum_v[TILE_ROWS][c];
    end

    for (r = 0; r < TILE_ROWS; r = r + 1) begin : g_row
      for (c = 0; c < TILE_COLS; c = c + 1) begin : g_col
        vosa_pe #(
`ifdef VOSA_INJECT_ERRORS
          .ROW     (r),
          .COL     (c),
`endif
          .A_BITS  (A_BITS),
          .W_BITS  (W_BITS),
          .ACC_BITS(ACC_BITS),
          .SIGNED  (SIGNED)
        ) u_pe (
          .clk_i    (clk_i),
          .rst_ni   (rst_ni),
`ifdef VOSA_INJECT_ERRORS
          .row0_i   (row0_i),
          .col0_i   (col0_i),
`endif
          .w_shift_i(w_shift_i),
          .w_i      (w_v[r][c]),
          .w_o      (w_v[r+1][c]),
          .a_i      (a_h[r][c]),
          .a_o      (a_h[r][c+1]),
          .psum_i   (psum_v[r][c]),
          .psum_o   (psum_v[r+1][c])
        );
      end
    end
  endgenerate
endmodule
