// SDF reader for what OpenSTA's write_sdf emits (and the common subset of
// SDF 3.0 around it): TIMESCALE, per-instance IOPATH rise/fall delays
// (optionally under COND, with edge specifiers), INTERCONNECT delays, and
// SETUP/HOLD timing checks. Each delay is a (min:typ:max) triplet; empty
// fields are allowed, e.g. OpenSTA writes (min::max).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

class SdfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SdfTriplet {
  std::optional<double> min, typ, max;  // in ns (TIMESCALE applied)
  bool empty() const { return !min && !typ && !max; }
  // max, else typ, else min (the slow corner a timing sim uses), or 0 when empty.
  double slowest() const;
};

struct SdfIopath {
  std::string input_pin, input_edge;  // edge: "", "posedge", "negedge"
  std::string output_pin;
  std::string cond;                   // "" when unconditional
  SdfTriplet rise, fall;              // delay of output rising / falling
  int line = 0;
};

struct SdfCheck {
  std::string type;  // SETUP, HOLD, ...
  std::string data_pin, data_edge, clock_pin, clock_edge;
  SdfTriplet value;
  int line = 0;
};

struct SdfCell {
  std::string cell_type;
  std::string instance;  // "" for the top cell
  std::vector<SdfIopath> iopaths;
  std::vector<SdfCheck> checks;
  int line = 0;
};

struct SdfInterconnect {
  std::string from, to;  // "inst/pin" or a top-level port name
  SdfTriplet rise, fall;
  int line = 0;
};

struct Sdf {
  std::string path;
  std::string design;
  std::string voltage;  // as written, e.g. "1.800::1.800"
  double timescale_ns = 1.0;
  std::vector<SdfCell> cells;
  std::vector<SdfInterconnect> interconnects;
};

Sdf read_sdf(const std::string& path);
Sdf parse_sdf(const std::string& text, const std::string& source);

}  // namespace vosa
