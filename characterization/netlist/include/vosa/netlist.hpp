// Structural Verilog netlist reader for Yosys' flat gate-level output
// (`write_verilog -noattr -noexpr -nohex -nodec`, after `splitnets`):
// one module, port and wire declarations, cell instances with named pin
// connections, and `assign a = b;` aliases. Every bit is its own net.
#pragma once

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vosa {

class NetlistError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NetlistPort {
  std::string name;
  std::string direction;  // input, output, inout
  int msb = 0, lsb = 0;
  bool is_vector = false;
  int width() const { return (msb > lsb ? msb - lsb : lsb - msb) + 1; }
  // Net name of bit i (counted from lsb): "a_i[3]" or "clk_i".
  std::string bit_name(int i) const;
};

struct NetlistInstance {
  std::string cell_type;
  std::string name;
  std::vector<std::pair<std::string, int>> pins;  // pin name -> net id
  int line = 0;
};

struct Netlist {
  std::string path;
  std::string module;
  std::vector<NetlistPort> ports;
  std::vector<std::string> net_names;
  std::vector<NetlistInstance> instances;
  std::vector<std::pair<int, int>> assigns;  // lhs net = rhs net
  int const0 = -1, const1 = -1;              // nets of 1'b0 / 1'b1, -1 if unused

  int find_net(const std::string& name) const;  // -1 when absent
  const NetlistPort* find_port(const std::string& name) const;
  const NetlistInstance* find_instance(const std::string& name) const;

  std::unordered_map<std::string, int> net_index;
  std::unordered_map<std::string, size_t> instance_index;
};

Netlist read_netlist(const std::string& path);
Netlist parse_netlist(const std::string& text, const std::string& source);

}  // namespace vosa
