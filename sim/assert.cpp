#include "sim/assert.hpp"

namespace sim {

void contract_failed(const char* condition, const char* file, int line, const std::string& why) {
  throw ContractViolation(std::string(file) + ":" + std::to_string(line) + ": " + why + " (" +
                          condition + ")");
}

}  // namespace sim
