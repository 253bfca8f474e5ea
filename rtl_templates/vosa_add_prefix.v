// Carry-propagate adder of the PE: sum_o = a_i + b_i, wrapped to WIDTH bits.
// Parallel prefix ({{ADDER_NAME}}): per-bit generate g = a & b and propagate
// p = a ^ b are combined by the prefix operator
//   (G, P)[i] o (G, P)[j] = (G[i] | P[i] & G[j], P[i] & P[j])
// in STAGES levels; after the last level G[i] is the carry out of bits 0..i,
// so bit j's sum waits for about log2(j) levels instead of j carry stages.
//   kogge_stone: log2(WIDTH) levels, every bit combined at every level
//                (fan-out 2, most wiring).
//   sklansky:    log2(WIDTH) levels, divide and conquer (fan-out grows to
//                WIDTH/2 at the last level, fewest levels and cells).
//   brent_kung:  2*log2(WIDTH)-1 levels, an up-sweep then a down-sweep
//                (fan-out 2, fewest cells).
// keep_hierarchy: the flow maps this module on its own so that ABC keeps
// its structure (docs/arith.md).
(* keep_hierarchy *)
module vosa_add #(
  parameter integer WIDTH = {{ACC_BITS}}
) (
  input  wire [WIDTH-1:0] a_i,
  input  wire [WIDTH-1:0] b_i,
  output wire [WIDTH-1:0] sum_o
);

  // Kind of prefix network: 0 kogge_stone, 1 sklansky, 2 brent_kung.
  localparam integer KIND = {{PREFIX_KIND}};

  function integer clog2(input integer value);
    integer v;
    begin
      clog2 = 0;
      for (v = value - 1; v > 0; v = v >> 1) clog2 = clog2 + 1;
    end
  endfunction

  localparam integer LOG = (WIDTH > 1) ? clog2(WIDTH) : 1;
  localparam integer STAGES = (KIND == 2) ? 2 * LOG - 1 : LOG;

  // g_s[s] and p_s[s]: the group generate/propagate after s levels.
  // split_var: Verilator otherwise sees level s+1 reading level s of the same
  // array as a combinational loop (UNOPTFLAT).
  wire [WIDTH-1:0] g_s [0:STAGES] /* verilator split_var */;
  wire [WIDTH-1:0] p_s [0:STAGES] /* verilator split_var */;
  assign g_s[0] = a_i & b_i;
  assign p_s[0] = a_i ^ b_i;

  genvar s, i;
  generate
    for (s = 0; s < STAGES; s = s + 1) begin : g_level
      for (i = 0; i < WIDTH; i = i + 1) begin : g_node
        // dist: how far back bit i reaches at this level (0: pass through).
        // brent_kung levels 0..LOG-1 are the up-sweep (k = s), the rest the
        // down-sweep (k = 2*LOG-2-s).
        localparam integer K = (KIND == 2 && s >= LOG) ? 2 * LOG - 2 - s : s;
        localparam integer SPAN = 1 << K;
        localparam integer DIST =
            (KIND == 0) ? ((i >= SPAN) ? SPAN : 0) :
            (KIND == 1) ? (((i >> K) % 2 == 1) ? i - ((i >> K) << K) + 1 : 0) :
            (s < LOG)   ? (((i + 1) % (2 * SPAN) == 0) ? SPAN : 0) :
                          (((i + 1) % (2 * SPAN) == SPAN && i + 1 > 2 * SPAN) ? SPAN : 0);
        if (DIST > 0) begin : g_combine
          assign g_s[s+1][i] = g_s[s][i] | (p_s[s][i] & g_s[s][i-DIST]);
          assign p_s[s+1][i] = p_s[s][i] & p_s[s][i-DIST];
        end else begin : g_pass
          assign g_s[s+1][i] = g_s[s][i];
          assign p_s[s+1][i] = p_s[s][i];
        end
      end
    end
  endgenerate

  // Bit j adds the carry out of bits 0..j-1; the carry out of the MSB and the
  // group propagates of the last level are not needed (the sum wraps).
  assign sum_o = p_s[0] ^ {g_s[STAGES][WIDTH-2:0], 1'b0};
  wire unused_prefix = ^{g_s[STAGES][WIDTH-1], p_s[STAGES]};
endmodule
