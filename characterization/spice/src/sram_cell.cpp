// SPICE Monte Carlo of a 6T SRAM cell's static margins (see sram_cell.hpp).
//
// The sky130 device subcircuits carry every model bin inside them, so
// ngspice copies some 60 model cards per transistor instance (about 1 s per
// cell); the deck instead holds the one bin card each transistor size uses,
// with the subcircuit's l, w, mult and nf written in, so thousands of
// transistors share three models. Each deck holds `cells_per_deck` cells and
// every voltage (an `alter` of the supply and one DC sweep per voltage).
#include "vosa/sram_cell.hpp"

#include "vosa/charlib.hpp"
#include "vosa/ngspice_run.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace vosa::spice {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The folder prepare_models copied: model_lib minus its path inside it.
fs::path models_root(const fs::path& model_lib, const std::string& lib_in_folder) {
  fs::path root = model_lib;
  const fs::path inside(lib_in_folder);
  for (auto it = inside.begin(); it != inside.end(); ++it) root = root.parent_path();
  return root;
}

fs::path find_model_file(const fs::path& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() == name) return e.path();
  throw CharlibError("SPICE model file " + name + " is not under " + root.string());
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw CharlibError("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The number after "<key> =" at or after `from` in `text` (std::regex is far
// too slow on the megabyte model files).
bool number_after(const std::string& text, const std::string& key, size_t from, size_t to, double* value) {
  for (size_t pos = text.find(key, from); pos != std::string::npos && pos < to; pos = text.find(key, pos + 1)) {
    size_t i = pos + key.size();
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size() || text[i] != '=') continue;
    const char* begin = text.c_str() + i + 1;
    char* end = nullptr;
    *value = std::strtod(begin, &end);
    if (end != begin) return true;
  }
  return false;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `expr` with the whole words of `values` replaced.
std::string substitute_words(const std::string& expr, const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  size_t i = 0;
  while (i < expr.size()) {
    if (!is_word_char(expr[i])) {
      out += expr[i++];
      continue;
    }
    size_t j = i;
    while (j < expr.size() && is_word_char(expr[j])) ++j;
    std::string word = expr.substr(i, j - i);
    for (const auto& [name, value] : values)
      if (word == name) word = value;
    out += word;
    i = j;
  }
  return out;
}

// The Pelgrom coefficient of vth0 (V um) of `device` from its mismatch file.
double vth0_slope(const fs::path& root, const std::string& device) {
  const fs::path f = find_model_file(root, device + "__mismatch.corner.spice");
  double v = 0;
  if (!number_after(read_text(f), device + "__vth0_slope", 0, std::string::npos, &v))
    throw CharlibError(f.string() + ": no " + device + "__vth0_slope (the Pelgrom coefficient of the mismatch model)");
  return v;
}

// The bin card of `device` at `process` that covers W x L (um), renamed to
// `name`, with the subcircuit's instance parameters written in.
std::string model_card(const fs::path& root, const std::string& device, const std::string& process, double w,
                       double l, const std::string& name) {
  const fs::path f = find_model_file(root, device + "__" + process + ".pm3.spice");
  const std::string text = read_text(f);
  for (size_t pos = text.find("\n.model"); pos != std::string::npos;) {
    size_t end = std::min(text.find("\n.model", pos + 1), text.find("\n.ends", pos + 1));
    double lmin, lmax, wmin, wmax;
    const bool ok = number_after(text, "lmin", pos, end, &lmin) && number_after(text, "lmax", pos, end, &lmax) &&
                    number_after(text, "wmin", pos, end, &wmin) && number_after(text, "wmax", pos, end, &wmax);
    if (!ok || l * 1e-6 < lmin || l * 1e-6 > lmax || w * 1e-6 < wmin || w * 1e-6 > wmax) {
      pos = end == std::string::npos ? end : text.find("\n.model", end);
      continue;
    }
    std::string card = text.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    // Rename, and write the instance parameters into the {...} expressions.
    const size_t name_end = card.find_first_of(" \t", std::string(".model ").size());
    card = ".model " + name + card.substr(name_end);
    const std::vector<std::pair<std::string, std::string>> values = {
        {"l", num(l)}, {"w", num(w)}, {"mult", "1"}, {"nf", "1"}};
    std::string out;
    size_t i = 0;
    while (i < card.size()) {
      const size_t open = card.find('{', i);
      if (open == std::string::npos) {
        out += card.substr(i);
        break;
      }
      const size_t close = card.find('}', open);
      if (close == std::string::npos) throw CharlibError(f.string() + ": unbalanced { in the card of " + device);
      out += card.substr(i, open - i) + substitute_words(card.substr(open, close - open + 1), values);
      i = close + 1;
    }
    return out + "\n";
  }
  throw CharlibError(f.string() + ": no model bin of " + device + " covers W = " + num(w) + " um, L = " + num(l) +
                     " um");
}

// Portable standard normals (std::normal_distribution differs between
// standard libraries; mt19937_64's stream does not).
class Gaussian {
 public:
  explicit Gaussian(std::uint64_t seed) : rng_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1)), t = 2.0 * M_PI * u2;
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

 private:
  std::mt19937_64 rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Vth shifts (V, positive = weaker) of one cell: left and right half, each
// pull-up, pull-down, pass.
struct CellMismatch {
  double d[2][3];
};

enum Config { kHold = 0, kRead = 1, kWrite = 2 };
const char* const kConfigName[3] = {"h", "r", "w"};

std::string node(int config, int cell, int half) {
  return std::string("o") + kConfigName[config] + std::to_string(cell) + (half == 0 ? "l" : "r");
}

std::string deck_for(const SramCellOptions& o, const std::string& model_lib, const std::string& section,
                     const std::string& cards, const std::vector<CellMismatch>& cells, size_t first, size_t count,
                     std::vector<std::vector<std::string>>* files) {
  std::ostringstream d;
  d << "* vosa sram-cell Monte Carlo: cells " << first << ".." << first + count - 1 << "\n";
  d << ".lib \"" << model_lib << "\" " << section << "\n.temp " << num(o.temperature_c) << "\n" << cards;
  d << "vdd vdd 0 " << num(o.voltages.front()) << "\nvin in 0 0\n";
  for (size_t c = first; c < first + count; ++c) {
    const int i = static_cast<int>(c);
    for (int half = 0; half < 2; ++half) {
      const double* dv = cells[c].d[half];
      for (int cfg = 0; cfg < 3; ++cfg) {
        const std::string out = node(cfg, i, half), tag = out.substr(1);
        const char* wl = cfg == kHold ? "0" : "vdd";
        const char* bl = cfg == kWrite ? "0" : "vdd";
        // Gate offsets: the pull-up's gate is raised by its |Vth| shift, the
        // n devices' gates lowered by theirs.
        d << "vu" << tag << " gu" << tag << " in " << num(dv[0]) << "\n";
        d << "vd" << tag << " gd" << tag << " in " << num(-dv[1]) << "\n";
        d << "vg" << tag << " gg" << tag << " " << wl << " " << num(-dv[2]) << "\n";
        d << "mu" << tag << " " << out << " gu" << tag << " vdd vdd pu w=" << num(o.pull_up_w) << " l=" << num(o.length)
          << "\n";
        d << "md" << tag << " " << out << " gd" << tag << " 0 0 pd w=" << num(o.pull_down_w) << " l=" << num(o.length)
          << "\n";
        d << "mg" << tag << " " << bl << " gg" << tag << " " << out << " 0 pg w=" << num(o.pass_w)
          << " l=" << num(o.length) << "\n";
      }
    }
  }
  d << ".control\n";
  files->assign(o.voltages.size(), {});
  std::vector<std::string> nodes;
  for (size_t c = first; c < first + count; ++c)
    for (int cfg = 0; cfg < 3; ++cfg)
      for (int half = 0; half < 2; ++half) nodes.push_back(node(cfg, static_cast<int>(c), half));
  for (size_t k = 0; k < o.voltages.size(); ++k) {
    const double v = o.voltages[k];
    d << "alter vdd dc = " << num(v) << "\n";
    d << "dc vin 0 " << num(v) << " " << num(v / o.sweep_points) << "\n";
    // wrdata lines stay short: 120 vectors per file.
    for (size_t g = 0; g < nodes.size(); g += 120) {
      const std::string f = "v" + std::to_string(k) + "_" + std::to_string(g / 120) + ".txt";
      (*files)[k].push_back(f);
      d << "wrdata " << f;
      for (size_t n = g; n < std::min(nodes.size(), g + 120); ++n) d << " " << nodes[n];
      d << "\n";
    }
    d << "destroy all\n";
  }
  d << "quit\n.endc\n.end\n";
  return d.str();
}

// wrdata columns: (x, y) per vector; returns the y columns.
std::vector<std::vector<double>> read_wrdata(const fs::path& f, size_t vectors) {
  std::ifstream in(f);
  if (!in) throw CharlibError("ngspice wrote no " + f.string());
  std::vector<std::vector<double>> y(vectors);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::vector<double> row;
    double x;
    while (s >> x) row.push_back(x);
    if (row.empty()) continue;
    if (row.size() != 2 * vectors)
      throw CharlibError(f.string() + ": expected " + std::to_string(2 * vectors) + " columns, got " +
                         std::to_string(row.size()));
    for (size_t v = 0; v < vectors; ++v) y[v].push_back(row[2 * v + 1]);
  }
  return y;
}

MarginStats fit(const std::vector<double>& margins) {
  MarginStats s;
  s.lobes = static_cast<int>(margins.size());
  double sum = 0, sq = 0;
  for (double m : margins) sum += m, s.negative += m < 0;
  s.mean = sum / margins.size();
  for (double m : margins) sq += (m - s.mean) * (m - s.mean);
  s.sigma = std::sqrt(sq / std::max<size_t>(1, margins.size() - 1));
  s.p_lobe = s.sigma > 0 ? normal_tail(-s.mean / s.sigma) : (s.mean < 0 ? 1.0 : 0.0);
  s.p_cell = std::min(1.0, 2.0 * s.p_lobe);
  return s;
}

// Interpolates y(x) on ascending xs.
double interp(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  const auto it = std::lower_bound(xs.begin(), xs.end(), x);
  if (it == xs.begin()) return ys.front();
  if (it == xs.end()) return ys.back();
  const size_t i = static_cast<size_t>(it - xs.begin());
  const double t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
  return ys[i - 1] + t * (ys[i] - ys[i - 1]);
}

}  // namespace

double normal_tail(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

Lobes butterfly_lobes(const std::vector<double>& input, const std::vector<double>& left,
                      const std::vector<double>& right) {
  if (input.size() < 3 || left.size() != input.size() || right.size() != input.size())
    throw CharlibError("butterfly: the two transfer curves need the input's " + std::to_string(input.size()) +
                       " points (at least 3)");
  // Seevinck's rotation: u = (Q - QB) / sqrt2, v = (Q + QB) / sqrt2. The
  // right half (Q, right(Q)) and the left half (left(QB), QB) are each a
  // function v(u) since both transfer curves fall.
  const double r2 = std::sqrt(2.0);
  std::vector<std::pair<double, double>> cr, cl;
  for (size_t k = 0; k < input.size(); ++k) {
    cr.push_back({(input[k] - right[k]) / r2, (input[k] + right[k]) / r2});
    cl.push_back({(left[k] - input[k]) / r2, (left[k] + input[k]) / r2});
  }
  auto split = [](std::vector<std::pair<double, double>> c, std::vector<double>& u, std::vector<double>& v) {
    std::sort(c.begin(), c.end());
    for (const auto& p : c)
      if (u.empty() || p.first > u.back()) u.push_back(p.first), v.push_back(p.second);
  };
  std::vector<double> ur, vr, ul, vl;
  split(cr, ur, vr);
  split(cl, ul, vl);
  const double lo = std::max(ur.front(), ul.front()), hi = std::min(ur.back(), ul.back());
  // D = v_left - v_right: positive inside the Q = 1 lobe (u > 0), negative
  // inside the Q = 0 lobe (u < 0). The search stops short of the stable
  // corners (80 % of the way), where both curves meet at D ~ 0 and a vanished
  // lobe would otherwise read as a zero one.
  Lobes lobes{-1e9, -1e9};
  const int steps = 800;
  for (int s = 0; s <= steps; ++s) {
    const double u = lo + (hi - lo) * s / steps;
    const double dd = (interp(ul, vl, u) - interp(ur, vr, u)) / r2;
    if (u > 0 && u <= 0.8 * hi) lobes.state1 = std::max(lobes.state1, dd);
    if (u < 0 && u >= 0.8 * lo) lobes.state0 = std::max(lobes.state0, -dd);
  }
  // A curve that never reaches one side (u range ends before 0): no lobe there;
  // its size is the gap at the end of the common range.
  if (lobes.state1 == -1e9) lobes.state1 = (interp(ul, vl, hi) - interp(ur, vr, hi)) / r2;
  if (lobes.state0 == -1e9) lobes.state0 = -(interp(ul, vl, lo) - interp(ur, vr, lo)) / r2;
  return lobes;
}

SramCellResult simulate_sram_cell(const pdk::PdkConfig& pdk, const SramCellOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!pdk.spice) throw CharlibError("PDK " + pdk.name + " has no 'spice' field (SPICE models)");
  if (o.voltages.empty()) throw CharlibError("sram cell: no --voltages");
  for (double v : o.voltages)
    if (!(v > 0 && v < 5)) throw CharlibError("sram cell: voltage " + num(v) + " V is outside (0, 5)");
  if (!std::is_sorted(o.voltages.begin(), o.voltages.end()) ||
      std::adjacent_find(o.voltages.begin(), o.voltages.end()) != o.voltages.end())
    throw CharlibError("sram cell: --voltages must be strictly increasing");
  if (o.samples < 2) throw CharlibError("sram cell: --samples must be at least 2");
  if (o.cells_per_deck < 1 || o.workers < 1 || o.sweep_points < 10)
    throw CharlibError("sram cell: cells per deck and workers must be >= 1, sweep points >= 10");
  const auto sec = pdk.spice->sections.find(o.process);
  if (sec == pdk.spice->sections.end())
    throw CharlibError("sram cell: process '" + o.process + "' is not in spice.sections of " + pdk.path.string());

  SramCellResult r;
  r.options = o;
  r.pdk = pdk.name;
  const fs::path lib = prepare_models(pdk, o.cache_dir);
  r.model_lib = lib.string();
  const fs::path root = models_root(lib, pdk.spice->model_lib);
  r.vth0_slope_nmos = vth0_slope(root, o.nmos);
  r.vth0_slope_pmos = vth0_slope(root, o.pmos);
  r.sigma_vth_pull_down = r.vth0_slope_nmos / std::sqrt(o.pull_down_w * o.length);
  r.sigma_vth_pass = r.vth0_slope_nmos / std::sqrt(o.pass_w * o.length);
  r.sigma_vth_pull_up = r.vth0_slope_pmos / std::sqrt(o.pull_up_w * o.length);
  const std::string cards = model_card(root, o.pmos, sec->second, o.pull_up_w, o.length, "pu") +
                            model_card(root, o.nmos, sec->second, o.pull_down_w, o.length, "pd") +
                            model_card(root, o.nmos, sec->second, o.pass_w, o.length, "pg");

  Gaussian g(o.seed);
  std::vector<CellMismatch> cells(static_cast<size_t>(o.samples));
  for (auto& c : cells)
    for (int h = 0; h < 2; ++h) {
      c.d[h][0] = g.next() * r.sigma_vth_pull_up;
      c.d[h][1] = g.next() * r.sigma_vth_pull_down;
      c.d[h][2] = g.next() * r.sigma_vth_pass;
    }

  // margins[voltage][cell]: hold/read lobes (state1, state0), write lobes.
  struct CellMargins {
    Lobes hold, read, write;  // write: lobes of the old state in the two write directions
  };
  std::vector<std::vector<CellMargins>> margins(o.voltages.size(), std::vector<CellMargins>(cells.size()));
  const fs::path work = o.cache_dir / pdk.name / "spice" / "sram" / ("run." + std::to_string(::getpid()));
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  std::mutex error_mutex;
  std::string error;
  const size_t decks = (cells.size() + o.cells_per_deck - 1) / o.cells_per_deck;
  auto worker = [&]() {
    for (size_t k; (k = next++) < decks;) {
      try {
        const size_t first = k * o.cells_per_deck, count = std::min<size_t>(o.cells_per_deck, cells.size() - first);
        std::vector<std::vector<std::string>> files;
        const std::string deck = deck_for(o, lib.string(), sec->second, cards, cells, first, count, &files);
        const fs::path dir = work / ("deck" + std::to_string(k));
        run_ngspice(deck, dir, "SRAM cell Monte Carlo deck " + std::to_string(k));
        for (size_t vi = 0; vi < o.voltages.size(); ++vi) {
          std::vector<std::vector<double>> y;
          for (const auto& f : files[vi]) {
            const size_t n = std::min<size_t>(120, count * 6 - y.size());
            auto part = read_wrdata(dir / f, n);
            for (auto& p : part) y.push_back(std::move(p));
          }
          std::vector<double> in;
          for (size_t s = 0; s < y.front().size(); ++s) in.push_back(o.voltages[vi] * s / o.sweep_points);
          if (in.size() != static_cast<size_t>(o.sweep_points) + 1)
            throw CharlibError(dir.string() + ": expected " + std::to_string(o.sweep_points + 1) + " sweep points");
          for (size_t c = 0; c < count; ++c) {
            // node order per cell: config-major (hold, read, write), half-minor (left, right)
            const auto& hl = y[c * 6 + 0];
            const auto& hr = y[c * 6 + 1];
            const auto& rl = y[c * 6 + 2];
            const auto& rr = y[c * 6 + 3];
            const auto& wl = y[c * 6 + 4];
            const auto& wr = y[c * 6 + 5];
            CellMargins& m = margins[vi][first + c];
            m.hold = butterfly_lobes(in, hl, hr);
            m.read = butterfly_lobes(in, rl, rr);
            // Writing 0 into Q (left bit line low): the Q = 1 lobe must vanish;
            // writing 1 (right bit line low): the Q = 0 lobe.
            m.write.state1 = -butterfly_lobes(in, wl, rr).state1;
            m.write.state0 = -butterfly_lobes(in, rl, wr).state0;
          }
        }
        fs::remove_all(dir);
        const int d = ++done;
        if (!o.quiet && (d % 10 == 0 || d == static_cast<int>(decks)))
          std::cerr << "sram cell: " << d << "/" << decks << " decks\n";
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (error.empty()) error = e.what();
        next = decks;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < std::min<int>(o.workers, static_cast<int>(decks)); ++w) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!error.empty()) throw CharlibError(error);
  fs::remove_all(work);
  r.simulations = static_cast<int>(decks);

  for (size_t vi = 0; vi < o.voltages.size(); ++vi) {
    SramVoltagePoint p;
    p.voltage = o.voltages[vi];
    std::vector<double> hold, read, write;
    for (const CellMargins& m : margins[vi]) {
      hold.insert(hold.end(), {m.hold.state1, m.hold.state0});
      read.insert(read.end(), {m.read.state1, m.read.state0});
      write.insert(write.end(), {m.write.state1, m.write.state0});
      p.failed_cells += (std::min({m.read.state1, m.read.state0, m.write.state1, m.write.state0}) < 0);
      p.read_above_hold += (m.read.state1 > m.hold.state1 + 1e-3) + (m.read.state0 > m.hold.state0 + 1e-3);
    }
    p.hold = fit(hold);
    p.read = fit(read);
    p.write = fit(write);
    // Read disturb and write failures as independent; a hold failure is also
    // a read failure (the read lobe is the smaller one: read_above_hold).
    p.ber_fit = p.read.p_cell + p.write.p_cell - p.read.p_cell * p.write.p_cell;  // 1 - (1-r)(1-w), no cancellation
    r.points.push_back(p);
  }
  // The fitted BER made non-increasing with the voltage (a cell that fails at
  // V fails below V): the running maximum from the highest voltage down.
  double running = 0;
  for (auto it = r.points.rbegin(); it != r.points.rend(); ++it) running = it->ber = std::max(running, it->ber_fit);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void write_sram_ber_curve(const SramCellResult& r, const std::string& command, const fs::path& out) {
  const SramCellOptions& o = r.options;
  char corner[64];
  std::snprintf(corner, sizeof corner, "%s_%03.0fC", o.process.c_str(), o.temperature_c);
  json j;
  j["schema"] = "vosa-sram-ber";
  j["source"] = "spice: ngspice Monte Carlo of a 6T cell (" + r.pdk + " " + o.nmos + " / " + o.pmos +
                ", Vth mismatch from the models' vth0_slope), static hold/read/write margins, Gaussian tail fit: " +
                command;
  j["corner"] = corner;
  j["nominal_v"] = 1.8;
  json mc;
  mc["samples"] = o.samples;
  mc["seed"] = o.seed;
  mc["pdk"] = r.pdk;
  mc["process"] = o.process;
  mc["temperature_c"] = o.temperature_c;
  mc["cell_um"] = {{"pull_down_w", o.pull_down_w}, {"pass_w", o.pass_w}, {"pull_up_w", o.pull_up_w}, {"l", o.length}};
  mc["vth0_slope_v_um"] = {{o.nmos, r.vth0_slope_nmos}, {o.pmos, r.vth0_slope_pmos}};
  mc["sigma_vth_v"] = {{"pull_down", r.sigma_vth_pull_down}, {"pass", r.sigma_vth_pass}, {"pull_up", r.sigma_vth_pull_up}};
  mc["method"] =
      "per-lobe static margins (Seevinck butterfly; write: minus the old state's lobe with one bit line low), "
      "Gaussian fit per voltage, P(cell) = 2 P(lobe < 0), BER = 1 - (1 - P_read)(1 - P_write), made non-increasing "
      "in V";
  j["monte_carlo"] = mc;
  json pts = json::array();
  for (const auto& p : r.points) {
    auto stats = [](const MarginStats& s) {
      return json{{"mean_v", s.mean}, {"sigma_v", s.sigma}, {"lobes", s.lobes}, {"negative", s.negative},
                  {"p_cell", s.p_cell}};
    };
    pts.push_back({{"voltage", p.voltage},
                   {"ber", p.ber},
                   {"ber_fit", p.ber_fit},
                   {"failed_cells", p.failed_cells},
                   {"ber_empirical", static_cast<double>(p.failed_cells) / o.samples},
                   {"hold", stats(p.hold)},
                   {"read", stats(p.read)},
                   {"write", stats(p.write)},
                   {"read_above_hold_lobes", p.read_above_hold}});
  }
  j["points"] = pts;
  write_output_file(out, j.dump(2) + "\n");
}

}  // namespace vosa::spice
