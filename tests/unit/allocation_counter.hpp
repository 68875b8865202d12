// Number of operator new calls so far in this test binary, and the bytes of the blocks they
// returned that are not yet deleted (as malloc sized them); defined in no_allocation_test.cpp.
#pragma once
#include <cstdint>
std::uint64_t allocation_count();
std::int64_t live_bytes();
