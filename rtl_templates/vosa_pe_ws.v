// Weight-stationary processing element: one multiply-accumulate cell.
//   psum_q <= psum_i + a_q * w_q
// psum_q is the PE's output register, the timing endpoint that voltage
// overscaling breaks first. The weight is preloaded through a per-column
// shift chain (w_shift_i) and then held; the activation is registered and
// passed on to the right.
module vosa_pe #(
  parameter integer A_BITS   = {{ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer ACC_BITS = {{ACC_BITS}},
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire                clk_i,
  input  wire                rst_ni,
  input  wire                w_shift_i,
  input  wire [W_BITS-1:0]   w_i,
  output wire [W_BITS-1:0]   w_o,
  input  wire [A_BITS-1:0]   a_i,
  output wire [A_BITS-1:0]   a_o,
  input  wire [ACC_BITS-1:0] psum_i,
  output wire [ACC_BITS-1:0] psum_o
);

  reg  [A_BITS-1:0]   a_q;
  reg  [W_BITS-1:0]   w_q;
  reg  [ACC_BITS-1:0] psum_q;
  wire [ACC_BITS-1:0] prod;

  vosa_mul #(
    .A_BITS  (A_BITS),
    .W_BITS  (W_BITS),
    .OUT_BITS(ACC_BITS),
    .SIGNED  (SIGNED)
  ) u_mul (
    .a_i   (a_q),
    .w_i   (w_q),
    .prod_o(prod)
  );

  wire [ACC_BITS-1:0] psum_d = psum_i + prod;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q    <= {A_BITS{1'b0}};
      w_q    <= {W_BITS{1'b0}};
      psum_q <= {ACC_BITS{1'b0}};
    end else begin
      a_q    <= a_i;
      if (w_shift_i) begin
        w_q <= w_i;
      end
      psum_q <= psum_d;
    end
  end

  assign a_o    = a_q;
  assign w_o    = w_q;
  assign psum_o = psum_q;
endmodule
