// Top level of a weight-stationary array: a streaming interface.
//
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
module vosa_top #(
  parameter integer ROWS     = {{ROWS}},
  parameter integer COLS     = {{COLS}},
  parameter integer A_BITS   = {{ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer ACC_BITS = {{ACC_BITS}},
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,
  input  wire                     w_valid_i,
  input  wire [COLS*W_BITS-1:0]   w_row_i,
  input  wire                     in_valid_i,
  input  wire [ROWS*A_BITS-1:0]   a_vec_i,
  output wire                     out_valid_o,
  output wire [COLS*ACC_BITS-1:0] out_vec_o,
  output wire                     busy_o
);

  localparam integer LATENCY = ROWS + COLS;

  // valid_q[k] is high when the vector accepted k+1 cycles ago was valid.
  reg [LATENCY-1:0] valid_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= {LATENCY{1'b0}};
    end else begin
      valid_q <= {valid_q[LATENCY-2:0], in_valid_i};
    end
  end

  // Invalid cycles still flow through the array; zeroing their activations
  // keeps the datapath quiet (and the results of valid rows unaffected).
  wire [ROWS*A_BITS-1:0] a_gated = in_valid_i ? a_vec_i : {ROWS*A_BITS{1'b0}};

  vosa_array #(
    .ROWS    (ROWS),
    .COLS    (COLS),
    .A_BITS  (A_BITS),
    .W_BITS  (W_BITS),
    .ACC_BITS(ACC_BITS),
    .SIGNED  (SIGNED)
  ) u_array (
    .clk_i     (clk_i),
    .rst_ni    (rst_ni),
    .w_shift_i (w_valid_i),
    .w_row_i   (w_row_i),
    .a_col_i   (a_gated),
    .psum_row_o(out_vec_o)
  );

  assign out_valid_o = valid_q[LATENCY-1];
  assign busy_o      = |valid_q;
endmodule
