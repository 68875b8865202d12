// The ring buffer under every queue: nothing allocated until the first push, then the initial
// capacity (a power of two), doubling only when full, order kept at both ends across the wrap.
#include <catch2/catch.hpp>

#include <cstdint>

#include "sim/ring_buffer.hpp"

TEST_CASE("ring buffer: no storage until the first push, then the initial capacity") {
  sim::RingBuffer<std::uint32_t> idle;
  CHECK(idle.capacity() == 0);
  CHECK(idle.empty());
  sim::RingBuffer<std::uint32_t> asked(100);  // rounded up to a power of two
  CHECK(asked.capacity() == 0);
  asked.push_back(1);
  CHECK(asked.capacity() == 128);
  idle.push_back(1);
  CHECK(idle.capacity() == 64);
}

TEST_CASE("ring buffer: doubles when full, keeping FIFO and LIFO order across the wrap") {
  sim::RingBuffer<std::uint32_t> b(4);
  for (std::uint32_t i = 0; i < 3; ++i) b.push_back(i);
  CHECK(b.pop_front() == 0);  // head moves: the next pushes wrap around
  for (std::uint32_t i = 3; i < 6; ++i) b.push_back(i);
  CHECK(b.capacity() == 8);  // the fifth entry did not fit in 4
  CHECK(b.size() == 5);
  CHECK(b.pop_back() == 5);
  for (std::uint32_t expected = 1; expected <= 4; ++expected) CHECK(b.pop_front() == expected);
  CHECK(b.empty());
}

TEST_CASE("ring buffer: removing from the middle keeps the others in order") {
  sim::RingBuffer<std::uint32_t> b(2);
  for (std::uint32_t i = 0; i < 5; ++i) b.push_back(i);
  CHECK(b.remove_first([](std::uint32_t v) { return v == 2; }) == 2u);
  CHECK_FALSE(b.remove_first([](std::uint32_t v) { return v == 9; }).has_value());
  REQUIRE(b.size() == 4);
  CHECK(b.at(0) == 0);
  CHECK(b.at(1) == 1);
  CHECK(b.at(2) == 3);
  CHECK(b.at(3) == 4);
}
