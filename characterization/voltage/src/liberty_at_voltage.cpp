#include "vosa/voltage_model.hpp"

namespace vosa::voltage {

ModelLibertyInfo write_liberty_at_voltage(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                                          const std::filesystem::path&, const std::filesystem::path&,
                                          std::vector<std::string>) {
  throw pdk::PdkError("voltage model for " + pdk.name + " corner " + request.name + " is not available yet");
}

std::filesystem::path prepare_corner_liberty(const pdk::PdkConfig& pdk, const std::string& corner_name,
                                             const std::filesystem::path& cache_dir,
                                             const std::vector<std::string>& fit_corners) {
  const pdk::CornerRequest request = pdk::resolve_corner(pdk, corner_name);
  if (request.characterized) return pdk::prepare_liberty(pdk, corner_name, cache_dir);
  const auto out = std::filesystem::absolute(cache_dir / pdk.name / "model" / (corner_name + ".lib"));
  return write_liberty_at_voltage(pdk, request, cache_dir, out, fit_corners).path;
}

}  // namespace vosa::voltage
