// Output-stationary processing element: one multiply-accumulate cell.
//   acc_q <= (first ? 0 : acc_q) + a_q * w_q   while the operands are valid
//   acc_q <= psum_i                             while draining
// acc_q is the PE's output register, the timing endpoint that voltage
// overscaling breaks first; it feeds back into its own adder. Activations
// (with their valid/first flags) flow right, weights flow down, and during
// the drain the accumulators shift down the column to the array's bottom.
module vosa_pe #(
  parameter integer A_BITS   = {{ACT_BITS}},
  parameter integer W_BITS   = {{WEIGHT_BITS}},
  parameter integer ACC_BITS = {{ACC_BITS}},
  parameter integer SIGNED   = {{SIGNED}}
) (
  input  wire                clk_i,
  input  wire                rst_ni,
  input  wire                drain_i,
  input  wire                valid_i,
  input  wire                first_i,
  output wire                valid_o,
  output wire                first_o,
  input  wire [A_BITS-1:0]   a_i,
  output wire [A_BITS-1:0]   a_o,
  input  wire [W_BITS-1:0]   w_i,
  output wire [W_BITS-1:0]   w_o,
  input  wire [ACC_BITS-1:0] psum_i,
  output wire [ACC_BITS-1:0] psum_o
);

  reg                valid_q;
  reg                first_q;
  reg  [A_BITS-1:0]   a_q;
  reg  [W_BITS-1:0]   w_q;
  reg  [ACC_BITS-1:0] acc_q;
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

  wire [ACC_BITS-1:0] acc_base = first_q ? {ACC_BITS{1'b0}} : acc_q;
  // {{#ADD_INLINE}}
  wire [ACC_BITS-1:0] acc_sum  = acc_base + prod;
  // {{/ADD_INLINE}}
  // {{#ADD_MODULE}}
  wire [ACC_BITS-1:0] acc_sum;

  vosa_add #(
    .WIDTH(ACC_BITS)
  ) u_add (
    .a_i  (acc_base),
    .b_i  (prod),
    .sum_o(acc_sum)
  );
  // {{/ADD_MODULE}}

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      first_q <= 1'b0;
      a_q     <= {A_BITS{1'b0}};
      w_q     <= {W_BITS{1'b0}};
      acc_q   <= {ACC_BITS{1'b0}};
    end else begin
      valid_q <= valid_i;
      first_q <= first_i;
      a_q     <= a_i;
      w_q     <= w_i;
      if (drain_i) begin
        acc_q <= psum_i;
      end else if (valid_q) begin
        acc_q <= acc_sum;
      end
    end
  end

  assign valid_o = valid_q;
  assign first_o = first_q;
  assign a_o     = a_q;
  assign w_o     = w_q;
  assign psum_o  = acc_q;
endmodule
