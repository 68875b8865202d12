// Always-on assertions of preconditions and invariants (TigerBeetle style: a broken
// contract stops the run loudly instead of producing a wrong report). They throw
// sim::ContractViolation so the command line can exit with status 1 (internal error).
#pragma once

#include <stdexcept>
#include <string>

namespace sim {

class ContractViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void contract_failed(const char* condition, const char* file, int line,
                                  const std::string& why);

}  // namespace sim

#define DSIM_ASSERT(condition, why)                                  \
  do {                                                               \
    if (!(condition)) [[unlikely]]                                   \
      ::sim::contract_failed(#condition, __FILE__, __LINE__, (why)); \
  } while (false)
