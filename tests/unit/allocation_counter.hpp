// Number of operator new calls so far in this test binary (defined in no_allocation_test.cpp).
#pragma once
#include <cstdint>
std::uint64_t allocation_count();
