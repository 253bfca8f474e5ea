// DEPTH-cycle delay of a WIDTH-bit bus (DEPTH = 0 is a plain wire).
// Used for the array's input skew and output de-skew.
// The stages are one packed shift register written by one always block,
// however deep the line: a 256x256 array has 65,280 skew/de-skew stages, and
// one variable and process per stage is what kept Verilator from building it
// (docs/PERFORMANCE.md, "256x256 in Verilator"). Synthesis sees the same
// WIDTH x DEPTH flip-flops.
module vosa_delay_line #(
  parameter integer WIDTH = 1,
  parameter integer DEPTH = 1
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  // {{#STALL}}
  input  wire             en_i,  // hold every stage while low
  // {{/STALL}}
  input  wire [WIDTH-1:0] d_i,
  output wire [WIDTH-1:0] q_o
);

  generate
    if (DEPTH == 0) begin : g_wire
      // A zero-depth line is a wire: the clock and reset are not needed.
      wire unused_clk_rst = clk_i ^ rst_ni{{#STALL}} ^ en_i{{/STALL}};
      assign q_o = d_i;
    end else begin : g_shift
      // line_q[k*WIDTH +: WIDTH] is the bus after k+1 register stages.
      reg  [WIDTH*DEPTH-1:0] line_q;
      wire [WIDTH*DEPTH-1:0] line_d;
      if (DEPTH == 1) begin : g_one
        assign line_d = d_i;
      end else begin : g_many
        assign line_d = {line_q[WIDTH*(DEPTH-1)-1:0], d_i};
      end
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          line_q <= {(WIDTH*DEPTH){1'b0}};
        // {{#STALL}}
        end else if (en_i) begin
        // {{/STALL}}
        // {{^STALL}}
        end else begin
        // {{/STALL}}
          line_q <= line_d;
        end
      end
      assign q_o = line_q[WIDTH*(DEPTH-1) +: WIDTH];
    end
  endgenerate
endmodule
