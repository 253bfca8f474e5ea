// DEPTH-cycle delay of a WIDTH-bit bus (DEPTH = 0 is a plain wire).
// Used for the array's input skew and output de-skew.
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

  // chain[k] is the bus after k register stages.
  wire [WIDTH*(DEPTH+1)-1:0] chain;
  assign chain[WIDTH-1:0] = d_i;

  genvar k;
  generate
    for (k = 0; k < DEPTH; k = k + 1) begin : g_stage
      reg [WIDTH-1:0] stage_q;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          stage_q <= {WIDTH{1'b0}};
        // {{#STALL}}
        end else if (en_i) begin
        // {{/STALL}}
        // {{^STALL}}
        end else begin
        // {{/STALL}}
          stage_q <= chain[k*WIDTH +: WIDTH];
        end
      end
      assign chain[(k+1)*WIDTH +: WIDTH] = stage_q;
    end
    if (DEPTH == 0) begin : g_wire
      // A zero-depth line is a wire: the clock and reset are not needed.
      wire unused_clk_rst = clk_i ^ rst_ni{{#STALL}} ^ en_i{{/STALL}};
    end
  endgenerate

  assign q_o = chain[DEPTH*WIDTH +: WIDTH];
endmodule
