#include "vosa/dta_commands.hpp"

#include "energy_command.hpp"

#include "vosa/error_model.hpp"
#include "vosa/hash.hpp"
#include "vosa/number_list.hpp"
#include "vosa/pdk.hpp"
#include "vosa/pe_dta.hpp"
#include "vosa/precision.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

namespace vosa {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string slurp(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(what) + " " + path + ": cannot open file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Operand stream from a spec: uniform:SEED, layer:SEED[:ROW], trace:FILE.
OperandTrace make_operands(const std::string& spec, const TraceHeader& shape, std::uint64_t cycles,
                           int rows, int cols) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string arg = colon == std::string::npos ? "" : spec.substr(colon + 1);
  auto seed = [&](const std::string& s) -> std::uint64_t {
    try {
      return s.empty() ? 1 : std::stoull(s);
    } catch (const std::exception&) {
      throw std::runtime_error("--operands " + spec + ": bad seed '" + s + "'");
    }
  };
  if (shape.carry_save && kind != "layer" && kind != "trace")
    throw std::runtime_error("--operands " + spec + ": the carry-save PE needs the carry word the PE above passes down, "
                             "which only a column stream gives: use --operands layer:SEED or a carry-save trace "
                             "(docs/dta.md \"Carry-save PE\")");
  if (kind == "uniform") return make_uniform_random_trace(shape, cycles, seed(arg));
  if (kind == "layer") {
    TraceHeader h = shape;
    h.pe_row = rows - 1;  // the bottom row sees the widest partial sums
    return make_random_layer_trace(h, rows, cols, cycles, seed(arg));
  }
  if (kind == "trace") {
    OperandTrace t = read_trace(arg);
    if (t.header.act_bits != shape.act_bits || t.header.weight_bits != shape.weight_bits ||
        t.header.acc_bits != shape.acc_bits || t.header.is_signed != shape.is_signed)
      throw std::runtime_error(
          "trace " + arg + " has act_bits=" + std::to_string(t.header.act_bits) +
          " weight_bits=" + std::to_string(t.header.weight_bits) + " acc_bits=" +
          std::to_string(t.header.acc_bits) + (t.header.is_signed ? " signed" : " unsigned") +
          ", the PE needs " + std::to_string(shape.act_bits) + "/" + std::to_string(shape.weight_bits) +
          "/" + std::to_string(shape.acc_bits) + (shape.is_signed ? " signed" : " unsigned"));
    if (t.header.carry_save != shape.carry_save)
      throw std::runtime_error(
          "trace " + arg + (t.header.carry_save
                                ? " is a carry-save column's stream (sum and carry words), the PE is carry-propagate"
                                : " has no carry word (trace version 1), the PE is carry-save: write the trace from "
                                  "the carry-save array (make layers CONFIG=... TRACE_DIR=..., docs/trace.md)"));
    if (cycles && t.records.size() > cycles) t.records.resize(cycles);
    return t;
  }
  throw std::runtime_error("--operands '" + spec + "': expected uniform:SEED, layer:SEED or trace:FILE");
}

std::string binary(std::uint64_t v, int bits) {
  std::string s(bits, '0');
  for (int i = 0; i < bits; ++i) s[bits - 1 - i] = ((v >> i) & 1) ? '1' : '0';
  return s;
}

// Icarus 11 drops two things vosa dta simulates: INTERCONNECT delays (OpenSTA
// writes non-zero ones from the input ports, and from stall_i when it is tied),
// and the SDF of instances whose escaped name holds a '.' (it splits the name
// there: the Razor shadow flops g_bit[j].g_razor.shadow_q_reg). The kit so gets
// its own netlist.v (those instances renamed) and icarus.sdf: every IOPATH of the
// SDF with the wire delay into its input pin added and, as vosa applies them,
// each rounded to the resolution grid, the slowest of each triplet.
void write_icarus_netlist_and_sdf(const std::string& dir, const Netlist& nl, const Sdf& sdf, double resolution_ps) {
  std::map<std::string, std::string> renamed;
  for (const auto& inst : nl.instances) {
    if (inst.name.find('.') == std::string::npos) continue;
    std::string m = inst.name;
    for (char& ch : m)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
    renamed[inst.name] = m;
  }
  std::string text = slurp(nl.path, "netlist");
  for (const auto& [from, to] : renamed) {
    const std::string esc = "\\" + from + " ";
    for (size_t at = text.find(esc); at != std::string::npos; at = text.find(esc, at + to.size()))
      text.replace(at, esc.size(), to + " ");
  }
  write_output_file(dir + "/netlist.v", text);

  auto ps = [&](const SdfTriplet& t) { return std::llround(t.slowest() * 1000.0 / resolution_ps) * resolution_ps; };
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> wire;  // (instance, pin) -> rise, fall ps
  for (const auto& ic : sdf.interconnects) {
    const auto slash = ic.to.rfind('/');
    if (slash == std::string::npos) continue;
    auto& w = wire[{ic.to.substr(0, slash), ic.to.substr(slash + 1)}];
    w = {std::max<double>(w.first, ps(ic.rise)), std::max<double>(w.second, ps(ic.fall))};
  }
  auto escape = [](const std::string& id) {
    std::string e;
    for (char ch : id) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') e += '\\';
      e += ch;
    }
    return e;
  };
  std::ostringstream o;
  o << std::fixed << std::setprecision(4);
  o << "(DELAYFILE\n (SDFVERSION \"3.0\")\n (DESIGN \"" << sdf.design << "\")\n (DIVIDER /)\n (TIMESCALE 1ns)\n";
  for (const auto& cell : sdf.cells) {
    if (cell.iopaths.empty()) continue;
    const auto r = renamed.find(cell.instance);
    o << " (CELL\n  (CELLTYPE \"" << cell.cell_type << "\")\n  (INSTANCE "
      << (r != renamed.end() ? r->second : escape(cell.instance)) << ")\n  (DELAY\n   (ABSOLUTE\n";
    for (const auto& p : cell.iopaths) {
      const auto w = wire.find({cell.instance, p.input_pin});
      const double wr = w != wire.end() ? w->second.first : 0, wf = w != wire.end() ? w->second.second : 0;
      auto value = [&](const SdfTriplet& t, double add) {
        std::ostringstream v;
        v << std::fixed << std::setprecision(4);
        if (!t.empty()) v << (ps(t) + add) / 1000.0 << "::" << (ps(t) + add) / 1000.0;
        return "(" + v.str() + ")";
      };
      const std::string in = p.input_edge.empty() ? p.input_pin : "(" + p.input_edge + " " + p.input_pin + ")";
      const std::string path = "(IOPATH " + in + " " + p.output_pin + " " + value(p.rise, wr) + " " + value(p.fall, wf) + ")";
      o << "    " << (p.cond.empty() ? path : "(COND " + p.cond + " " + path + ")") << "\n";
    }
    o << "   )\n  )\n )\n";
  }
  o << ")\n";
  write_output_file(dir + "/icarus.sdf", o.str());
}

// Icarus cross-check kit: stimulus, the values vosa captured, and a testbench
// that replays the stimulus on the kit's netlist.v with icarus.sdf back-annotated
// (above). The stimulus can hold one window more than is sampled: a Razor PE's
// last record gets one more edge for its shadow sample.
// A carry-save PE (b.carry_save()) also gets its incoming carry word in the
// stimulus (after psum) and its carry register compared (captured_carry_*.txt).
void write_icarus_kit(const std::string& dir, const dta::PeBinding& b, const Netlist& nl,
                      const Sdf& sdf, double resolution_ps, const dta::SimOptions& sim,
                      const std::vector<std::array<std::int64_t, 3>>& inputs,
                      const std::vector<std::uint64_t>& captured, const std::vector<std::uint8_t>& err,
                      const std::vector<std::int64_t>& carry_inputs, const std::vector<std::uint64_t>& carries) {
  fs::create_directories(dir);
  write_icarus_netlist_and_sdf(dir, nl, sdf, resolution_ps);
  const bool csa = b.carry_save();
  std::ostringstream stim, cap, errs, cap_carry;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const auto& in = inputs[k];
    stim << binary(static_cast<std::uint64_t>(in[0]), b.act_bits) << binary(static_cast<std::uint64_t>(in[1]), b.weight_bits)
         << binary(static_cast<std::uint64_t>(in[2]), b.acc_bits)
         << (csa ? binary(static_cast<std::uint64_t>(carry_inputs.at(k)), b.acc_bits) : std::string()) << "\n";
  }
  for (std::uint64_t v : captured) cap << binary(v, b.acc_bits) << "\n";
  for (std::uint64_t v : carries) cap_carry << binary(v, b.acc_bits) << "\n";
  for (std::uint8_t e : err) errs << int{e} << "\n";
  write_output_file(dir + "/stimulus.mem", stim.str());
  write_output_file(dir + "/captured_vosa.txt", cap.str());
  if (csa) write_output_file(dir + "/captured_carry_vosa.txt", cap_carry.str());
  // Razor PE: err_o sampled with psum_o (main vs the shadow sampled at the delayed edge).
  if (b.razor()) write_output_file(dir + "/err_vosa.txt", errs.str());
  const int width = b.act_bits + b.weight_bits + b.acc_bits * (csa ? 2 : 1);
  std::ostringstream tb;
  // Every time in integer picoseconds, rounded as the simulator rounds them (TimingSimulator):
  // a real delay such as T/2 = 2.6185 ns would be rounded by Icarus to its 1 ps precision on
  // every half period, and its clock would drift against the stimulus by 1 ps per cycle.
  auto ps = [](double ns) { return std::llround(ns * 1000.0); };
  const long long period_ps = ps(sim.period_ns);
  tb << "// Generated by vosa dta --icarus-kit: replays the stimulus on the SDF-annotated netlist.\n"
     << "// Edge k+2 (time (k+2)*T) launches cycle k; inputs change IN_DELAY after it; psum_o is\n"
     << "// sampled 1 ps before the following edge. Times in integer ps, as vosa dta rounds them.\n"
     << "`timescale 1ps/1ps\nmodule tb;\n"
     << "  localparam integer T = " << period_ps << ";\n"
     << "  localparam integer T_LOW = " << period_ps / 2 << ", T_HIGH = T - T_LOW;\n"
     << "  localparam integer IN_DELAY = " << ps(sim.input_delay_ns) << ";\n"
     << "  localparam integer N = " << inputs.size() << ";\n"
     << "  localparam integer SAMPLES = " << captured.size() << ";\n"
     << "  reg [" << width - 1 << ":0] stim [0:N-1];\n"
     << "  reg clk_i = 1'b1, rst_ni = 1'b0;\n"
     << "  reg [" << b.act_bits - 1 << ":0] a_i = 0;\n"
     << "  reg [" << b.weight_bits - 1 << ":0] w_i = 0;\n"
     << "  reg [" << b.acc_bits - 1 << ":0] psum_i = 0;\n"
     << (csa ? "  reg [" + std::to_string(b.acc_bits - 1) + ":0] psum_c_i = 0;\n" : std::string())
     << "  wire [" << b.acc_bits - 1 << ":0] psum_o;\n";
  std::ostringstream ctrl;
  for (const auto& p : nl.ports) {
    if (p.direction == "output" && p.name != "psum_o")
      tb << "  wire [" << p.width() - 1 << ":0] " << p.name << ";\n";
    if (p.name == "clk_shadow_i") {  // the Razor shadow clock: clk_i delayed (transport)
      tb << "  reg clk_shadow_i = 1'b1;\n  always @(clk_i) clk_shadow_i <= #(" << ps(sim.shadow_delay_ns) << ") clk_i;\n";
    } else if (p.name == "stall_i" && b.stall_net >= 0) {  // as vosa dta ties it (the stimulus repeats held cycles)
      tb << "  wire stall_i;\n";
      ctrl << "  assign stall_i = err_o;\n";
    } else if (p.direction == "input" && p.name != "clk_i" && p.name != "rst_ni" && p.name != "a_i" &&
               p.name != "w_i" && p.name != "psum_i" && p.name != "psum_c_i") {
      std::string v(p.width(), '0');  // control inputs held as vosa dta holds them (bit 0 last)
      for (int k = 0; k < p.width(); ++k)
        for (const auto& [n, val] : b.constants)
          if (nl.net_names[n] == p.bit_name(k) || (p.width() == 1 && nl.net_names[n] == p.name))
            v[p.width() - 1 - k] = val ? '1' : '0';
      tb << "  reg " << (p.width() > 1 ? "[" + std::to_string(p.width() - 1) + ":0] " : "") << p.name << " = "
         << p.width() << "'b" << v << ";\n";
    }
  }
  tb << ctrl.str();
  tb << "  " << nl.module << " dut (";
  bool first = true;
  for (const auto& p : nl.ports) {
    tb << (first ? "" : ", ") << "." << p.name << "(" << p.name << ")";
    first = false;
  }
  tb << ");\n"
     << "  initial $sdf_annotate(\"" << fs::absolute(dir).string() << "/icarus.sdf\", dut);\n"
     << "  always begin #(T_LOW) clk_i = 1'b0; #(T_HIGH) clk_i = 1'b1; end\n"
     << "  integer k, fd" << (b.razor() ? ", fe" : "") << (csa ? ", fc" : "") << ";\n"
     << "  initial begin\n"
     << "    $readmemb(\"" << fs::absolute(dir).string() << "/stimulus.mem\", stim);\n"
     << "    #(T + T_LOW) rst_ni = 1'b1;\n"
     << "    #(T_HIGH + IN_DELAY);\n"
     << "    for (k = 0; k < N; k = k + 1) begin\n"
     << (csa ? "      {a_i, w_i, psum_i, psum_c_i} = stim[k];\n" : "      {a_i, w_i, psum_i} = stim[k];\n")
     << "      #(T);\n"
     << "    end\n"
     << "  end\n"
     << "  initial begin\n"
     << "    fd = $fopen(\"" << fs::absolute(dir).string() << "/captured_icarus.txt\", \"w\");\n"
     << (b.razor() ? "    fe = $fopen(\"" + fs::absolute(dir).string() + "/err_icarus.txt\", \"w\");\n" : "")
     << (csa ? "    fc = $fopen(\"" + fs::absolute(dir).string() + "/captured_carry_icarus.txt\", \"w\");\n" : "")
     << "    #(4*T - 1);\n"
     << "    repeat (SAMPLES) begin $fdisplay(fd, \"%b\", psum_o); "
     << (b.razor() ? "$fdisplay(fe, \"%0d\", err_o); " : "") << (csa ? "$fdisplay(fc, \"%b\", psum_c_o); " : "")
     << "#(T); end\n"
     << "    $fclose(fd);\n"
     << "    $finish;\n"
     << "  end\n"
     << "endmodule\n";
  write_output_file(dir + "/tb.v", tb.str());
}

void add_dta_command(CLI::App& app) {
  struct Options {
    std::string netlist, liberty, sdf, manifest, pdk = "unknown", corner, delay_source = "liberty-corner";
    std::string periods = "10", operands = "uniform:1", out, delay_mode = "transport", setup_mode = "sdf";
    std::string icarus_kit, dataflow, error_log, engine, pe_rows, razor_stall = "tied";
    double voltage = 0.0, input_delay_ns = 0.0, resolution_ps = 1.0;
    std::uint64_t cycles = 1000000;  // p_error >= 1e-4 to within 20 % (95 % CI), docs/dta.md
    int threads = 0, patterns = 16, mode = -1;
    std::string mask_form = dta::kDefaultMaskForm;
    double shadow_delay = -1.0;
    bool quiet = false;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "dta",
      "Dynamic timing analysis of the PE: simulate operand streams through the gate-level PE\n"
      "netlist with SDF delays and write per-bit timing-error statistics (docs/dta.md) as an\n"
      "error model (docs/errmodel.md), one point per clock period.");
  cmd->add_option("--netlist", opt->netlist, "PE gate netlist (Yosys write_verilog -noexpr)")->required();
  cmd->add_option("--liberty", opt->liberty, "liberty file for the cell functions (.lib or .lib.gz)")->required();
  cmd->add_option("--sdf", opt->sdf, "SDF with the cell delays at this voltage")->required();
  cmd->add_option("--manifest", opt->manifest, "manifest.json of the generated design (dataflow, signedness)");
  cmd->add_option("--dataflow", opt->dataflow, "weight_stationary or output_stationary (default: from --manifest)");
  cmd->add_option("--period-ns", opt->periods, "clock period(s) in ns, comma-separated")->required();
  auto* voltage_opt = cmd->add_option("--voltage", opt->voltage,
                                      "supply voltage the SDF was timed at (V; default: from --pdk/--corner)");
  cmd->add_option("--corner", opt->corner, "corner name, e.g. ss_n40C_1v28");
  cmd->add_option("--pdk", opt->pdk, "PDK (pdk_configs/ name or file); with --corner it gives voltage and delay source");
  auto* source_opt =
      cmd->add_option("--delay-source", opt->delay_source,
                      "liberty-corner, interpolated, derated or spice (default: from --pdk/--corner)")
          ->check(CLI::IsMember({"liberty-corner", "interpolated", "derated", "spice"}));
  cmd->add_option("--operands", opt->operands, "uniform:SEED, layer:SEED (random layer) or trace:FILE");
  cmd->add_option("--cycles", opt->cycles,
                  "cycles (vector pairs) to simulate; for traces, at most this many (default 1000000: every bit\n"
                  "with p_error >= 1e-4 gets a 95 % CI half-width <= 20 % of p)");
  cmd->add_option("--delay-mode", opt->delay_mode, "transport, inertial or modpath (Icarus' specify-path semantics)")
      ->check(CLI::IsMember({"transport", "inertial", "modpath"}));
  cmd->add_option("--engine", opt->engine,
                  "filter (default): a settle bound computed 64 cycles at a time decides which cycles capture\n"
                  "their zero-delay values, the event engine simulates the others (every delay mode; Razor,\n"
                  "carry-save and --energy runs use the event engine); event: event-driven, every cycle;\n"
                  "parallel: 64 cycles per pass, transport only, slower. All three capture the same value in\n"
                  "every cycle (docs/dta.md \"Engines\"); filter and parallel give the same results for any --threads.\n"
                  "VOSA_FILTER_ISA=avx512f|avx2|x86-64 forces the instruction set of the filter's bound loops\n"
                  "(default: the best the CPU has; the log line names it; same results)")
      ->check(CLI::IsMember({"filter", "parallel", "event"}));
  cmd->add_option("--setup", opt->setup_mode, "capture at T - setup from the SDF (sdf) or at T (zero)")
      ->check(CLI::IsMember({"sdf", "zero"}));
  auto* input_delay_opt = cmd->add_option(
      "--input-delay-ns", opt->input_delay_ns,
      "when primary inputs change after the edge (default 0; for a Razor PE the output register's\n"
      "shortest clock-to-Q, when the neighbour PEs' registers launch them: the shadow's hold window)");
  cmd->add_option("--resolution-ps", opt->resolution_ps, "delay rounding grid in ps (Icarus: timescale precision)");
  cmd->add_option("--threads", opt->threads,
                  "worker threads (each simulates a slice of the stream); default: all cores for the filter and\n"
                  "parallel engines (same results for any count), 1 for the event engine (whose slices restart settled)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", opt->out, "error model JSON to write")->required();
  cmd->add_option("--icarus-kit", opt->icarus_kit, "also write DIR/{tb.v,netlist.v,icarus.sdf,stimulus.mem,captured_vosa.txt} for an Icarus cross-check\n"
                  "(compile tb.v netlist.v with the cell models)");
  cmd->add_option("--patterns", opt->patterns,
                  "joint error patterns to keep per point and per operand class, most frequent first (default 16;\n"
                  "more keep the error magnitudes when many bits fail, docs/errmodel.md \"Fidelity\")")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--mask-form", opt->mask_form,
                  std::string("what the joint patterns keep, so how an injector draws a failing cycle's mask\n"
                              "(docs/errmodel.md \"Value classes\"): xor (the mask, XORed), correct-bits (each\n"
                              "pattern's correct bits: the measured signed error), value-classes (patterns per\n"
                              "class of the correct value with each class's hit rate, XORed),\n"
                              "value-classes+correct-bits; default ") +
                      dta::kDefaultMaskForm)
      ->check(CLI::IsMember({"xor", "correct-bits", "value-classes", "value-classes+correct-bits"}));
  cmd->add_option("--error-log", opt->error_log,
                  "also write every cycle with a timing error as CSV: period_ns,cycle,settled,captured\n"
                  "(cycle = trace record; register contents as unsigned acc_bits-wide integers)");
  cmd->add_option("--pe-rows", opt->pe_rows,
                  "FIRST-LAST (or ROW): the band of array rows the operand stream stands for; written as\n"
                  "pe_rows of every point (docs/errmodel.md \"PE positions\"); default: every row");
  cmd->add_option("--mode", opt->mode,
                  "precision mode (index into the manifest's precision_modes) held on the PE's mode_i: the\n"
                  "gated PE computes in that mode (docs/precision.md); required for a PE with modes")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--shadow-delay", opt->shadow_delay,
                  "Razor PE: delay of clk_shadow_i after clk_i as a fraction of the period (default: the\n"
                  "manifest's razor.shadow_delay). With policy correct stall_i is tied to err_o, so a flagged\n"
                  "cycle stalls the PE for the restore as in the array (docs/dta.md \"The PE as generated\")")
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--razor-stall", opt->razor_stall,
                  "Razor policy correct: tied (default; stall_i = err_o, the stall simulated) or held (stall_i\n"
                  "held 0: the PE's per-cycle activity without stalls, what make razor-cost prices; explore\n"
                  "prices the stall cycles separately)")
      ->check(CLI::IsMember({"tied", "held"}));
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing on success");
  auto energy = dta::add_dta_energy_options(cmd);
  cmd->callback([opt, voltage_opt, source_opt, input_delay_opt, energy]() {
    // A PDK corner names its voltage and where its delays come from.
    bool outside_ladder = false;
    if (!opt->corner.empty() && opt->pdk != "unknown") {
      const pdk::PdkConfig config = pdk::load_pdk(opt->pdk);
      const pdk::CornerRequest corner = pdk::resolve_corner(config, opt->corner);
      if (voltage_opt->count() == 0) opt->voltage = corner.voltage;
      if (source_opt->count() == 0) opt->delay_source = corner.delay_source;
      outside_ladder = corner.outside_ladder;
    }
    const Netlist nl = read_netlist(opt->netlist);
    const liberty::Library lib = liberty::load_library(opt->liberty);
    const Sdf sdf = read_sdf(opt->sdf);
    if (!sdf.design.empty() && sdf.design != nl.module)
      throw std::runtime_error(opt->sdf + ": SDF is for design '" + sdf.design + "', the netlist " +
                               opt->netlist + " is module '" + nl.module + "'");

    json manifest;
    std::string dataflow = opt->dataflow;
    bool is_signed = true;
    int rows = 8, cols = 8;
    if (!opt->manifest.empty()) {
      try {
        manifest = json::parse(slurp(opt->manifest, "manifest"));
        const json& cfg = manifest.at("config");
        if (dataflow.empty()) dataflow = cfg.at("dataflow").get<std::string>();
        is_signed = cfg.at("signed").get<bool>();
        rows = cfg.at("rows").get<int>();
        cols = cfg.at("cols").get<int>();
      } catch (const json::exception& e) {
        throw std::runtime_error("manifest " + opt->manifest + ": " + e.what());
      }
    }
    int row_first = -1, row_last = -1;
    if (!opt->pe_rows.empty()) {
      char tail = 0;
      const int n = std::sscanf(opt->pe_rows.c_str(), "%d-%d%c", &row_first, &row_last, &tail);
      if (n == 1) row_last = row_first;
      if ((n != 1 && n != 2) || opt->pe_rows.find_first_not_of("0123456789-") != std::string::npos || row_first < 0 || row_last < row_first || row_last >= rows)
        throw std::runtime_error("--pe-rows: '" + opt->pe_rows + "' is not FIRST-LAST (or ROW) with 0 <= FIRST <= LAST < " +
                                 std::to_string(rows) + " (the array's rows)");
    }
    if (dataflow.empty()) dataflow = "weight_stationary";
    if (dataflow != "weight_stationary" && dataflow != "output_stationary")
      throw std::runtime_error("--dataflow: '" + dataflow + "' is not weight_stationary or output_stationary");
    // The PE's optional ports, driven as the array drives them (docs/dta.md "The PE as generated").
    dta::PeOperatingPoint op;
    double shadow_delay = opt->shadow_delay;
    int mode_bits = 0;
    try {
      const json cfg = manifest.is_null() ? json::object() : manifest.at("config");
      if (opt->mode >= 0) {
        if (!cfg.contains("precision_modes"))
          throw std::runtime_error("--mode needs the manifest of a design with precision_modes (--manifest" +
                                   (opt->manifest.empty() ? std::string(" is missing") : " " + opt->manifest + " has none") + ")");
        const std::vector<int> modes = cfg.at("precision_modes").get<std::vector<int>>();
        if (opt->mode >= static_cast<int>(modes.size()))
          throw std::runtime_error("--mode " + std::to_string(opt->mode) + ": the design has " +
                                   std::to_string(modes.size()) + " precision modes (0.." + std::to_string(modes.size() - 1) + ")");
        op.mode = opt->mode;
        mode_bits = modes[opt->mode];
        op.act_drop = dropped_bits(mode_bits, cfg.at("act_bits").get<int>());
        op.weight_drop = dropped_bits(mode_bits, cfg.at("weight_bits").get<int>());
      }
      if (cfg.contains("razor") && !cfg.at("razor").is_null()) {
        op.razor_bits = cfg.at("razor").at("bits").get<std::vector<int>>();
        op.razor_policy = cfg.at("razor").at("policy").get<std::string>();
        if (shadow_delay < 0) shadow_delay = cfg.at("razor").at("shadow_delay").get<double>();
      }
    } catch (const json::exception& e) {
      throw std::runtime_error("manifest " + opt->manifest + ": " + e.what());
    }
    if (op.razor_policy.empty() && opt->shadow_delay >= 0)
      throw std::runtime_error("--shadow-delay: the design has no Razor bits (manifest config.razor)");
    dta::BuildOptions bo;
    bo.resolution_ps = opt->resolution_ps;
    // Razor correct: a detected error stalls the array for the restore cycle;
    // the PE's stall_i is its own err_o (the array's OR of every err_o, as
    // make razor-gate's testbench drives it), so the stall mux and the held
    // cycle are simulated (docs/dta.md "The PE as generated").
    if (opt->razor_stall == "tied" && op.razor_policy == "correct" && nl.find_port("stall_i") &&
        nl.find_port("err_o"))
      bo.port_ties.emplace_back("stall_i", "err_o");
    const dta::Circuit circuit = dta::build_circuit(nl, lib, sdf, bo);
    const dta::PeBinding binding = dta::bind_pe(
        circuit, nl, dataflow == "weight_stationary" ? dta::Dataflow::kWeightStationary : dta::Dataflow::kOutputStationary, op);

    // A Razor PE's inputs come from the neighbours' registers: they change
    // clock-to-Q after the edge, which bounds how early new data can race the
    // shadow flops (hold); 0 would flag false errors no array sees.
    if (binding.razor() && input_delay_opt->count() == 0) {
      std::int32_t c2q = INT32_MAX;
      for (int f : binding.output_flops)
        c2q = std::min({c2q, circuit.flops[f].clk_to_q_rise_ps, circuit.flops[f].clk_to_q_fall_ps});
      opt->input_delay_ns = c2q / 1000.0;
    }

    TraceHeader shape;
    shape.act_bits = binding.act_bits;
    shape.weight_bits = binding.weight_bits;
    shape.acc_bits = binding.acc_bits;
    shape.is_signed = is_signed;
    shape.carry_save = binding.carry_save();
    if (binding.carry_save() && opt->engine == "parallel")
      throw std::runtime_error("--engine parallel does not drive the carry-save PE's psum_c_i (docs/dta.md "
                               "\"Carry-save\"); use --engine event or filter");
    const OperandTrace trace = make_operands(opt->operands, shape, opt->cycles, rows, cols);

    std::string engine = opt->engine.empty() ? "filter" : opt->engine;
    // The runs the filter engine hands to the event engine say so.
    dta::RunOptions probe;
    probe.count_activity = energy->enabled;
    if (engine == "filter" && !dta::filter_engine_applies(circuit, binding, probe)) engine = "event";
    const int threads = opt->threads > 0 ? opt->threads
                        : engine != "event" ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                                            : 1;
    json points = json::array();
    std::ostringstream error_log;
    error_log << "period_ns,cycle,settled,captured\n";
    double total_seconds = 0;
    std::uint64_t total_samples = 0;
    for (double period : parse_number_list(opt->periods, "--period-ns")) {
      dta::RunOptions ro;
      ro.sim.period_ns = period;
      ro.sim.input_delay_ns = opt->input_delay_ns;
      ro.sim.delay_mode = dta::parse_delay_mode(opt->delay_mode);
      ro.sim.setup_mode = dta::parse_setup_mode(opt->setup_mode);
      if (binding.razor()) ro.sim.shadow_delay_ns = shadow_delay * period;
      ro.is_signed = is_signed;
      ro.record_error_cycles = !opt->error_log.empty();
      ro.count_activity = energy->enabled;
      std::vector<std::array<std::int64_t, 3>> inputs;
      std::vector<std::uint64_t> captured;
      std::vector<std::uint8_t> err;
      std::vector<std::int64_t> carry_inputs;
      std::vector<std::uint64_t> carries;
      if (!opt->icarus_kit.empty()) {
        ro.input_log = &inputs;
        ro.captured_log = &captured;
        ro.err_log = &err;
        if (binding.carry_save()) {
          ro.carry_input_log = &carry_inputs;
          ro.carry_log = &carries;
        }
      }
      const auto t0 = std::chrono::steady_clock::now();
      const dta::PointStats s =
          engine == "parallel" ? dta::run_pe_trace_pattern_parallel(circuit, binding, trace, ro, threads)
          : engine == "filter" ? dta::run_pe_trace_filtered(circuit, binding, trace, ro, threads)
                               : dta::run_pe_trace_parallel(circuit, binding, trace, ro, threads);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      total_seconds += secs;
      total_samples += s.samples;
      if (s.carry.settled_mismatches)
        throw std::runtime_error(opt->netlist + ": in " + std::to_string(s.carry.settled_mismatches) +
                                 " cycles the settled carry word psum_c_q differs from the carry-save step of "
                                 "psum_i, psum_c_i and a*w: the netlist or the port binding is wrong");
      if (s.settled_mismatches)
        throw std::runtime_error(opt->netlist + ": in " + std::to_string(s.settled_mismatches) +
                                 " cycles the settled netlist output differs from psum + a*w: the netlist, "
                                 "the liberty functions or the port binding are wrong");
      points.push_back(dta::point_to_json(s, opt->voltage, opt->corner, opt->delay_source, opt->patterns));
      dta::apply_mask_form(points.back(), opt->mask_form);
      for (const auto& e : s.error_cycles)
        error_log << period << "," << e.cycle << "," << e.settled << "," << e.captured << "\n";
      if (outside_ladder) points.back()["outside_ladder"] = true;  // extrapolated voltage model
      if (energy->enabled)
        points.back()["energy"] = dta::dta_energy_point(
            *energy, nl, opt->liberty, s, ro,
            [&](const dta::RunOptions& r) { return dta::run_pe_trace_parallel(circuit, binding, trace, r, threads); },
            opt->pdk, opt->voltage, opt->delay_source);
      if (row_first >= 0) points.back()["pe_rows"] = {row_first, row_last};
      if (binding.carry_save()) points.back()["carry_word"] = dta::carry_word_to_json(s.carry, binding.acc_bits, s.samples, opt->patterns);
      if (binding.razor()) points.back()["razor"] = dta::razor_to_json(s.razor, binding, s.samples, ro.sim.shadow_delay_ns);
      if (!opt->icarus_kit.empty())
        write_icarus_kit(opt->icarus_kit, binding, nl, sdf, opt->resolution_ps, ro.sim, inputs, captured, err, carry_inputs, carries);
      if (opt->quiet) continue;
      std::cout << "vosa dta: T=" << period << " ns: " << s.samples << " cycles in " << secs << " s ("
                << static_cast<std::uint64_t>(s.samples / std::max(secs, 1e-9)) << " vector-pairs/s), "
                << s.cycles_with_error << " with a timing error, " << s.events / std::max<std::uint64_t>(1, s.samples)
                << (engine == "parallel" ? " gate evaluations per cycle (incl. the earlier cycles each one replays; " : " gate evaluations per cycle (")
                << engine << " engine, " << threads << " threads";
      if (s.event_times) {
        std::ostringstream share;  // own stream: std::cout keeps its number format
        share << std::fixed << std::setprecision(2) << static_cast<double>(s.events) / static_cast<double>(s.event_times);
        std::cout << "; " << share.str() << " lanes share each evaluated gate-time";
      }
      if (engine == "filter") {
        std::ostringstream share;
        share << std::fixed << std::setprecision(1) << 100.0 * static_cast<double>(s.filtered) / std::max<std::uint64_t>(1, s.samples);
        share << " % of cycles resolved by the settle bound, " << 100.0 * static_cast<double>(s.cone_simulated) / std::max<std::uint64_t>(1, s.samples)
              << " % simulated in the fan-in of their late flip-flops only, the rest in full; " << std::setprecision(2)
              << s.bound_seconds << " s in the bounds (" << dta::filter_engine_isa() << "), " << s.simulate_seconds
              << " s in event simulation and statistics; " << s.lane_gates << " of " << s.gates
              << " gates bounded lane by lane, the others by their static bound";
        std::cout << "; " << share.str();
      }
      std::cout << ")\n";
      // Bits whose estimate is too coarse to use: p >= 1e-4 with a 95 % CI half-width above
      // 20 % of p (about 96 / p samples are needed, docs/dta.md).
      std::ostringstream coarse;
      for (int j = 0; j < binding.acc_bits; ++j) {
        const double p = s.samples ? static_cast<double>(s.bit_errors[j]) / s.samples : 0.0;
        const auto [lo, hi] = wilson95(s.bit_errors[j], s.samples);
        if (p >= 1e-4 && (hi - lo) / 2 > 0.2 * p) coarse << " " << j;
      }
      if (!coarse.str().empty())
        std::cout << "vosa dta: T=" << period << " ns: bits with p_error >= 1e-4 whose 95 % CI half-width exceeds 20 % of p:"
                  << coarse.str() << " (more --cycles: about 96 / p_error)\n";
    }
    json model = {{"schema_version", kErrorModelSchemaVersion},
                  {"pdk", opt->pdk},
                  {"design",
                   {{"module", nl.module},
                    {"dataflow", dataflow},
                    {"output_register", manifest.value("pe_output_register",
                                                       dataflow == "weight_stationary" ? "psum_q" : "acc_q")},
                    {"acc_bits", binding.acc_bits},
                    {"act_bits", binding.act_bits},
                    {"weight_bits", binding.weight_bits},
                    {"signed", is_signed},
                    {"config_hash", manifest.value("config_hash", "")}}},
                  // Absolute, so the file stays valid wherever it is copied or read from.
                  {"netlist", std::filesystem::absolute(opt->netlist).lexically_normal().string()},
                  {"netlist_hash", fnv1a64_hex(slurp(opt->netlist, "netlist"))},
                  {"operand_source", trace.header.source},
                  {"simulation",
                   {{"delay_mode", opt->delay_mode},
                    {"setup", opt->setup_mode},
                    {"input_delay_ns", opt->input_delay_ns},
                    {"resolution_ps", opt->resolution_ps},
                    {"engine", engine},
                    {"tool", "vosa dta"}}},
                  {"points", points}};
    for (auto& p : model["points"]) p["sdf"] = std::filesystem::absolute(opt->sdf).lexically_normal().string();
    if (op.mode >= 0)
      model["design"]["precision_mode"] = {{"index", op.mode}, {"bits", mode_bits},
                                           {"act_drop", op.act_drop}, {"weight_drop", op.weight_drop}};
    write_output_file(opt->out, model.dump(1) + "\n");
    if (!opt->error_log.empty()) write_output_file(opt->error_log, error_log.str());
    if (!opt->quiet)
      std::cout << "vosa dta: wrote " << opt->out << " (" << total_samples << " cycles, "
                << static_cast<std::uint64_t>(total_samples / std::max(total_seconds, 1e-9))
                << " vector-pairs/s overall)\n";
  });
}

void add_errmodel_merge_command(CLI::App& app) {
  struct Options {
    std::vector<std::string> inputs;
    std::string out;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("errmodel-merge",
                                 "Merge error models of one design (e.g. one per voltage) into one file,\n"
                                 "points sorted by voltage then period.");
  cmd->add_option("inputs", opt->inputs, "error model JSON files")->required();
  cmd->add_option("--out", opt->out, "merged error model")->required();
  cmd->callback([opt]() {
    json merged;
    for (const auto& path : opt->inputs) {
      json m;
      try {
        m = json::parse(slurp(path, "error model"));
      } catch (const json::parse_error& e) {
        throw std::runtime_error("error model " + path + ": not valid JSON: " + e.what());
      }
      if (merged.is_null()) {
        merged = m;
        continue;
      }
      for (const char* key : {"pdk", "netlist_hash", "operand_source"})
        if (m.value(key, json()) != merged.value(key, json()))
          throw std::runtime_error("error model " + path + ": field '" + key + "' is " +
                                   m.value(key, json()).dump() + ", the others have " +
                                   merged.value(key, json()).dump());
      for (const auto& p : m.at("points")) merged["points"].push_back(p);
    }
    auto& pts = merged["points"];
    const auto first_row = [](const json& p) { return p.contains("pe_rows") ? p["pe_rows"].at(0).get<int>() : -1; };
    std::sort(pts.begin(), pts.end(), [&](const json& a, const json& b) {
      const double va = a.at("voltage"), vb = b.at("voltage");
      const double ta = a.at("period_ns"), tb = b.at("period_ns");
      return va != vb ? va < vb : ta != tb ? ta < tb : first_row(a) < first_row(b);
    });
    // Files of schema 1 and 2 merge into the current one (2 only adds pe_rows);
    // the reader checks what merging can break (overlapping row bands).
    merged["schema_version"] = kErrorModelSchemaVersion;
    try {
      ErrorModel::from_json(merged, opt->out);
    } catch (const ErrorModelError& e) {
      throw std::runtime_error(std::string("errmodel-merge: ") + e.what());
    }
    write_output_file(opt->out, merged.dump(1) + "\n");
  });
}

void add_trace_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("trace", "Write or inspect operand traces (*.vtrace, docs/trace.md).");
  cmd->require_subcommand(1);
  struct Options {
    std::string out, file, layer;
    std::uint64_t count = 100000, seed = 1;
    int act_bits = 8, weight_bits = 8, acc_bits = 19, rows = 8, cols = 8, pe_row = 0, pe_col = 0, show = 8;
    bool is_unsigned = false, carry_save = false;
  };
  auto opt = std::make_shared<Options>();
  auto shape_options = [opt](CLI::App* c) {
    c->add_option("--out", opt->out, "trace file to write")->required();
    c->add_option("--count", opt->count, "records");
    c->add_option("--seed", opt->seed, "random seed");
    c->add_option("--act-bits", opt->act_bits, "activation width");
    c->add_option("--weight-bits", opt->weight_bits, "weight width");
    c->add_option("--acc-bits", opt->acc_bits, "accumulator width");
    c->add_flag("--unsigned", opt->is_unsigned, "unsigned operands");
  };
  auto shape = [opt]() {
    TraceHeader h;
    h.act_bits = opt->act_bits;
    h.weight_bits = opt->weight_bits;
    h.acc_bits = opt->acc_bits;
    h.is_signed = !opt->is_unsigned;
    h.pe_row = opt->pe_row;
    h.pe_col = opt->pe_col;
    h.carry_save = opt->carry_save;
    return h;
  };
  auto* random = cmd->add_subcommand("random", "uniform random operands");
  shape_options(random);
  random->callback([opt, shape]() { write_trace(opt->out, make_uniform_random_trace(shape(), opt->count, opt->seed)); });
  auto* layer = cmd->add_subcommand("layer", "what one PE of a random weight-stationary layer sees");
  shape_options(layer);
  layer->add_option("--rows", opt->rows, "array rows");
  layer->add_option("--cols", opt->cols, "array columns");
  layer->add_option("--pe-row", opt->pe_row, "PE row");
  layer->add_option("--pe-col", opt->pe_col, "PE column");
  layer->add_flag("--carry-save", opt->carry_save,
                  "carry-save partial sums: each record also holds the carry word the rows above pass down "
                  "(trace version 2, docs/trace.md)");
  layer->callback([opt, shape]() {
    write_trace(opt->out, make_random_layer_trace(shape(), opt->rows, opt->cols, opt->count, opt->seed));
  });
  auto* show = cmd->add_subcommand("show", "print the header and the first records");
  show->add_option("file", opt->file, "trace")->required();
  show->add_option("-n", opt->show, "records to print");
  show->callback([opt]() {
    const OperandTrace t = read_trace(opt->file);
    std::cout << header_to_json(t.header, 2) << "\n";
    for (size_t i = 0; i < t.records.size() && static_cast<int>(i) < opt->show; ++i)
      std::cout << i << ": a=" << t.records[i].activation << " w=" << t.records[i].weight
                << " psum_in=" << t.records[i].psum_in
                << (t.header.carry_save ? " psum_c_in=" + std::to_string(t.records[i].psum_c_in) : std::string())
                << "\n";
  });
}

}  // namespace

void add_errmodel_csv_command(CLI::App& app);       // characterization/errmodel
void add_errmodel_validate_command(CLI::App& app);  // characterization/errmodel
void add_errmodel_bands_command(CLI::App& app);     // characterization/errmodel

void add_dta_commands(CLI::App& app) {
  add_dta_command(app);
  dta::add_energy_command(app);
  dta::add_energy_table_command(app);
  add_trace_command(app);
  add_errmodel_merge_command(app);
  add_errmodel_csv_command(app);
  add_errmodel_validate_command(app);
  add_errmodel_bands_command(app);
}

}  // namespace vosa
