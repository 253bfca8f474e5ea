// Top level of an output-stationary array: a streaming interface.
//
//   Input: one reduction step per cycle while in_ready_o is high: a_vec_i
//     (element r: row r of the left matrix at step k) and w_vec_i (element c:
//     column c of the right matrix at step k), with in_valid_i high, and
//     in_last_i high on the last step of the tile. At most ROWS steps per
//     tile: acc_bits is sized for the sum of ROWS products.
//   After the last step the array finishes (FLUSH) and then drains: for ROWS
//     cycles out_valid_o is high and out_vec_o holds one result row
//     (element c: column c), bottom row (ROWS-1) first, top row last.
//   in_ready_o is low from the last step until the drain has finished;
//   busy_o is high during the same time.
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
  input  wire                     in_valid_i,
  input  wire                     in_last_i,
  output wire                     in_ready_o,
  input  wire [ROWS*A_BITS-1:0]   a_vec_i,
  input  wire [COLS*W_BITS-1:0]   w_vec_i,
  output wire                     out_valid_o,
  output wire [COLS*ACC_BITS-1:0] out_vec_o,
  output wire                     busy_o
);

  // The last step reaches PE (ROWS-1, COLS-1) after ROWS+COLS-2 skew and
  // hop cycles plus its two register stages.
  localparam integer FLUSH_CYCLES = ROWS + COLS;
  localparam integer CNT_BITS     = $clog2(FLUSH_CYCLES + 1);

  localparam [1:0] S_STREAM = 2'd0;
  localparam [1:0] S_FLUSH  = 2'd1;
  localparam [1:0] S_DRAIN  = 2'd2;

  reg [1:0]          state_q;
  reg [CNT_BITS-1:0] count_q;
  reg                first_q;  // the next accepted step starts a tile

  wire accept = (state_q == S_STREAM) && in_valid_i;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_STREAM;
      count_q <= {CNT_BITS{1'b0}};
      first_q <= 1'b1;
    end else begin
      case (state_q)
        S_STREAM: begin
          if (accept) begin
            first_q <= in_last_i;
            if (in_last_i) begin
              state_q <= S_FLUSH;
              count_q <= FLUSH_CYCLES[CNT_BITS-1:0];
            end
          end
        end
        S_FLUSH: begin
          if (count_q == {{(CNT_BITS-1){1'b0}}, 1'b1}) begin
            state_q <= S_DRAIN;
            count_q <= ROWS[CNT_BITS-1:0];
          end else begin
            count_q <= count_q - 1'b1;
          end
        end
        S_DRAIN: begin
          if (count_q == {{(CNT_BITS-1){1'b0}}, 1'b1}) begin
            state_q <= S_STREAM;
          end
          count_q <= count_q - 1'b1;
        end
        default: state_q <= S_STREAM;
      endcase
    end
  end

  wire                   draining = (state_q == S_DRAIN);
  wire [ROWS*A_BITS-1:0] a_gated  = accept ? a_vec_i : {ROWS*A_BITS{1'b0}};
  wire [COLS*W_BITS-1:0] w_gated  = accept ? w_vec_i : {COLS*W_BITS{1'b0}};

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
    .drain_i   (draining),
    .valid_i   (accept),
    .first_i   (accept && first_q),
    .a_col_i   (a_gated),
    .w_row_i   (w_gated),
    .psum_row_o(out_vec_o)
  );

  assign in_ready_o  = (state_q == S_STREAM);
  assign out_valid_o = draining;
  assign busy_o      = !in_ready_o;
endmodule
