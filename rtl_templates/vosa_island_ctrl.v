// Voltage-island controller (always-on domain).
//
// Holds each island's supply level (0 .. LEVELS-1, LEVELS-1 = highest
// voltage, the reset value), sequences level changes with the external
// regulator, stalls the array while any island's voltage moves, counts Razor
// errors per island, and optionally adapts the levels in closed loop.
//
// Level change of island i (programmed, or decided by the closed loop):
//   REQ:    vreq_o[i] = 1 and vlevel_o[i] = target until vack_i[i]
//   SETTLE: SETTLE_CYCLES cycles after the acknowledge
//   then the level register takes the target. busy_o[i] is high in REQ and
//   SETTLE; the array stalls while any island is busy, so no data is lost.
//
// Register interface (word addresses, 32-bit data, writes on reg_we_i,
// reads combinational on reg_rdata_o):
//   0x000 CTRL            rw  bit 0: closed-loop enable
//   0x001 STATUS          ro  bit i: island i is changing level (i < 32)
//   0x002 WINDOW          rw  cycles per closed-loop observation window
//   0x003 RAISE_THRESHOLD rw  error cycles in a window above which the level rises
//   0x004 QUIET_WINDOWS   rw  error-free windows after which the level falls
//   0x005 RAZOR_STALLS    ro  cycles stalled to correct Razor errors (write clears)
//   0x006 VOLTAGE_STALLS  ro  cycles stalled for voltage changes (write clears)
//   0x100+i LEVEL[i]      rw  write: target level; read: [7:0] level, [15:8] target, [16] busy
//   0x200+i ERRCOUNT[i]   ro  cycles with a Razor error in island i, saturating (write clears)
module vosa_island_ctrl #(
  parameter integer COLS            = {{COLS}},
  parameter integer ISLANDS         = {{ISLANDS}},
  parameter integer LEVELS          = {{LEVELS}},
  parameter integer LEVEL_BITS      = {{LEVEL_BITS}},
  // Bit i*COLS + c is set when column c belongs to island i.
  parameter [ISLANDS*COLS-1:0] ISLAND_COLS = {{ISLAND_COLS}},
  parameter integer SETTLE_CYCLES   = {{SETTLE_CYCLES}},
  parameter integer CLOSED_LOOP     = {{CLOSED_LOOP}},
  parameter integer WINDOW          = {{WINDOW}},
  parameter integer RAISE_THRESHOLD = {{RAISE_THRESHOLD}},
  parameter integer QUIET_WINDOWS   = {{QUIET_WINDOWS}}
) (
  input  wire                          clk_i,
  input  wire                          rst_ni,
  input  wire                          reg_we_i,
  input  wire [11:0]                   reg_addr_i,
  input  wire [31:0]                   reg_wdata_i,
  output reg  [31:0]                   reg_rdata_o,
  output wire [ISLANDS-1:0]            vreq_o,
  output wire [ISLANDS*LEVEL_BITS-1:0] vlevel_o,
  input  wire [ISLANDS-1:0]            vack_i,
  input  wire [COLS-1:0]               col_err_i,
  input  wire                          razor_stall_i,
  output wire [ISLANDS-1:0]            busy_o,
  output wire [ISLANDS*LEVEL_BITS-1:0] level_o
);

  localparam [1:0] S_IDLE   = 2'd0;
  localparam [1:0] S_REQ    = 2'd1;
  localparam [1:0] S_SETTLE = 2'd2;
  localparam [LEVEL_BITS-1:0] TOP_LEVEL = LEVELS[LEVEL_BITS-1:0] - 1'b1;

  reg        closed_loop_q;
  reg [31:0] window_q;
  reg [31:0] raise_threshold_q;
  reg [7:0]  quiet_windows_q;
  reg [31:0] razor_stalls_q;
  reg [31:0] voltage_stalls_q;
  reg [31:0] window_count_q;

  wire window_end = (window_count_q + 32'd1 >= window_q);
  wire any_busy   = |busy_o;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      closed_loop_q     <= (CLOSED_LOOP != 0);
      window_q          <= WINDOW;
      raise_threshold_q <= RAISE_THRESHOLD;
      quiet_windows_q   <= QUIET_WINDOWS[7:0];
      razor_stalls_q    <= 32'd0;
      voltage_stalls_q  <= 32'd0;
      window_count_q    <= 32'd0;
    end else begin
      if (reg_we_i && reg_addr_i == 12'h000) closed_loop_q <= reg_wdata_i[0];
      if (reg_we_i && reg_addr_i == 12'h002) window_q <= (reg_wdata_i == 32'd0) ? 32'd1 : reg_wdata_i;
      if (reg_we_i && reg_addr_i == 12'h003) raise_threshold_q <= reg_wdata_i;
      if (reg_we_i && reg_addr_i == 12'h004) quiet_windows_q <= reg_wdata_i[7:0];
      if (reg_we_i && reg_addr_i == 12'h005) begin
        razor_stalls_q <= 32'd0;
      end else if (razor_stall_i && razor_stalls_q != 32'hffff_ffff) begin
        razor_stalls_q <= razor_stalls_q + 32'd1;
      end
      if (reg_we_i && reg_addr_i == 12'h006) begin
        voltage_stalls_q <= 32'd0;
      end else if (any_busy && voltage_stalls_q != 32'hffff_ffff) begin
        voltage_stalls_q <= voltage_stalls_q + 32'd1;
      end
      window_count_q <= window_end ? 32'd0 : window_count_q + 32'd1;
    end
  end

  // Per-island state, flattened into vectors for the register read mux.
  wire [ISLANDS*LEVEL_BITS-1:0] target_v;
  wire [ISLANDS*32-1:0]         errcount_v;

  genvar i;
  generate
    for (i = 0; i < ISLANDS; i = i + 1) begin : g_island
      reg [1:0]            state_q;
      reg [LEVEL_BITS-1:0] level_q;
      reg [LEVEL_BITS-1:0] target_q;
      reg [15:0]           settle_q;
      reg [31:0]           errcount_q;
      reg [31:0]           window_errors_q;
      reg [7:0]            quiet_q;

      wire island_err = |(col_err_i & ISLAND_COLS[i*COLS +: COLS]);
      wire level_write = reg_we_i && ({20'd0, reg_addr_i} == 32'h100 + i);
      wire [LEVEL_BITS-1:0] level_wdata =
          (reg_wdata_i > LEVELS - 1) ? TOP_LEVEL : reg_wdata_i[LEVEL_BITS-1:0];
      // Closed loop: decide at the end of each window, only while idle.
      wire loop_active = closed_loop_q && window_end && (state_q == S_IDLE) && !level_write;
      wire [31:0] window_errs_now = island_err ? window_errors_q + 32'd1 : window_errors_q;
      wire too_many = loop_active && (window_errs_now > raise_threshold_q);
      wire quiet    = loop_active && (window_errs_now == 32'd0);

      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          state_q         <= S_IDLE;
          level_q         <= TOP_LEVEL;
          target_q        <= TOP_LEVEL;
          settle_q        <= 16'd0;
          errcount_q      <= 32'd0;
          window_errors_q <= 32'd0;
          quiet_q         <= 8'd0;
        end else begin
          // Error counting (saturating) and the closed-loop window.
          if (reg_we_i && {20'd0, reg_addr_i} == 32'h200 + i) begin
            errcount_q <= 32'd0;
          end else if (island_err && errcount_q != 32'hffff_ffff) begin
            errcount_q <= errcount_q + 32'd1;
          end
          if (window_end) begin
            window_errors_q <= 32'd0;
          end else if (island_err) begin
            window_errors_q <= window_errors_q + 32'd1;
          end

          if (level_write) begin
            target_q <= level_wdata;
          end else if (too_many) begin
            quiet_q <= 8'd0;
            if (level_q != TOP_LEVEL) target_q <= level_q + 1'b1;
          end else if (quiet) begin
            if (quiet_q + 8'd1 >= quiet_windows_q) begin
              quiet_q <= 8'd0;
              if (level_q != {LEVEL_BITS{1'b0}}) target_q <= level_q - 1'b1;
            end else begin
              quiet_q <= quiet_q + 8'd1;
            end
          end else if (loop_active) begin
            quiet_q <= 8'd0;  // some errors, below the threshold
          end

          case (state_q)
            S_IDLE: begin
              if (target_q != level_q) state_q <= S_REQ;
            end
            S_REQ: begin
              if (vack_i[i]) begin
                state_q  <= S_SETTLE;
                settle_q <= SETTLE_CYCLES[15:0];
              end
            end
            S_SETTLE: begin
              if (settle_q == 16'd0) begin
                level_q <= vlevel_o[i*LEVEL_BITS +: LEVEL_BITS];
                state_q <= S_IDLE;
              end else begin
                settle_q <= settle_q - 16'd1;
              end
            end
            default: state_q <= S_IDLE;
          endcase
        end
      end

      // The level requested from the regulator is latched at the request:
      // a target written during a change is taken up by the next change.
      reg [LEVEL_BITS-1:0] request_q;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          request_q <= TOP_LEVEL;
        end else if (state_q == S_IDLE && target_q != level_q) begin
          request_q <= target_q;
        end
      end

      assign vreq_o[i]                           = (state_q == S_REQ);
      assign vlevel_o[i*LEVEL_BITS +: LEVEL_BITS] = request_q;
      assign busy_o[i]                           = (state_q != S_IDLE);
      assign level_o[i*LEVEL_BITS +: LEVEL_BITS]  = level_q;
      assign target_v[i*LEVEL_BITS +: LEVEL_BITS] = target_q;
      assign errcount_v[i*32 +: 32]              = errcount_q;
    end
  endgenerate

  // Register reads.
  integer k;
  always @(*) begin
    reg_rdata_o = 32'd0;
    case (reg_addr_i)
      12'h000: reg_rdata_o = {31'd0, closed_loop_q};
      12'h001: begin
        for (k = 0; k < ISLANDS && k < 32; k = k + 1) reg_rdata_o[k] = busy_o[k];
      end
      12'h002: reg_rdata_o = window_q;
      12'h003: reg_rdata_o = raise_threshold_q;
      12'h004: reg_rdata_o = {24'd0, quiet_windows_q};
      12'h005: reg_rdata_o = razor_stalls_q;
      12'h006: reg_rdata_o = voltage_stalls_q;
      default: begin
        for (k = 0; k < ISLANDS; k = k + 1) begin
          if ({20'd0, reg_addr_i} == 32'h100 + k) begin
            reg_rdata_o[7:0]   = {{(8-LEVEL_BITS){1'b0}}, level_o[k*LEVEL_BITS +: LEVEL_BITS]};
            reg_rdata_o[15:8]  = {{(8-LEVEL_BITS){1'b0}}, target_v[k*LEVEL_BITS +: LEVEL_BITS]};
            reg_rdata_o[16]    = busy_o[k];
          end
          if ({20'd0, reg_addr_i} == 32'h200 + k) reg_rdata_o = errcount_v[k*32 +: 32];
        end
      end
    endcase
  end
endmodule
