// libFuzzer target (fuzz/README.md): the scenario loader, then a short, bounded run of each
// scenario that loads and its report, as `dsim run` would do them (fuzz/scenario_input.hpp
// says what is run and the bound on each input's work).
//
// Findings: any exception but scenario::ScenarioError (dsim's exit status 1, an internal
// error: a ContractViolation, a JSON type error, std::invalid_argument from a model...) is
// turned into abort(), a crash for libFuzzer; ASan, UBSan (built without recovery) and
// LeakSanitizer abort by themselves; libFuzzer adds timeouts and out-of-memory.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "fuzz/scenario_input.hpp"
#include "scenario/scenario_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    dsimfuzz::load_run_and_report(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const scenario::ScenarioError&) {
    // Bad input, said with its JSON path: the expected outcome of most inputs.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loader_fuzzer: internal error (dsim's exit status 1): %s\n", e.what());
    std::abort();
  }
  return 0;
}
