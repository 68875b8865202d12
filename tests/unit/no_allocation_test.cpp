// Counts every operator new in this test binary, so a test can require that a steady-state
// run performs none (DESIGN.md: "the steady-state event loop allocates nothing").
#include <catch2/catch.hpp>

#include <malloc.h>
#include <atomic>

#include <cstdlib>
#include <new>

#include "sim/simulator.hpp"
#include "tests/unit/allocation_counter.hpp"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
// What operator new's blocks hold now, as malloc sized them (malloc_usable_size).
std::atomic<std::int64_t> g_live_bytes{0};
}  // namespace

std::uint64_t allocation_count() {
  return g_allocations.load(std::memory_order_relaxed);
}

std::int64_t live_bytes() {
  return g_live_bytes.load(std::memory_order_relaxed);
}

// Every form of operator new and delete is replaced, so that each allocation and its release go
// through malloc and free: under AddressSanitizer a form left to the runtime (nothrow, aligned)
// would pair its allocation with our free, an alloc-dealloc mismatch.
namespace {
void* tracked(void* p) {
  if (p != nullptr)
    g_live_bytes.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
  return p;
}
void release(void* p) {
  if (p != nullptr)
    g_live_bytes.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)),
                           std::memory_order_relaxed);
  std::free(p);
}
void* counted_malloc(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return tracked(std::malloc(size == 0 ? 1 : size));
}
void* counted_aligned(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  const std::size_t n = size == 0 ? 1 : size;
  return tracked(
      std::aligned_alloc(a, (n + a - 1) / a * a));  // aligned_alloc wants a multiple of a
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = counted_aligned(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return operator new(size, align);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_aligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_aligned(size, align);
}
void operator delete(void* p) noexcept {
  release(p);
}
void operator delete[](void* p) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  release(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  release(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  release(p);
}

using namespace sim;

TEST_CASE("a steady-state M/M/1 run on the kernel performs zero operator new calls") {
  Simulator s(3);
  Rng arrivals = s.rng("arrivals");
  Rng service = s.rng("service");
  struct State {
    Simulator* sim;
    Rng* arrivals;
    Rng* service;
    int queue = 0;
    EventId timeout;
  } st{&s, &arrivals, &service, 0, {}};
  struct Departure {
    State* st;
    void operator()() const {
      if (--st->queue > 0)
        st->sim->schedule_after(
            Duration::nanoseconds(1 + static_cast<std::int64_t>(st->service->below(1000))), *this);
    }
  };
  struct Arrival {
    State* st;
    void operator()() const {
      // A timer that is nearly always cancelled exercises lazy deletion too.
      st->sim->cancel(st->timeout);
      st->timeout = st->sim->schedule_after(Duration::nanoseconds(5000), [] {});
      if (st->queue++ == 0)
        st->sim->schedule_after(
            Duration::nanoseconds(1 + static_cast<std::int64_t>(st->service->below(1000))),
            Departure{st});
      st->sim->schedule_after(
          Duration::nanoseconds(1 + static_cast<std::int64_t>(st->arrivals->below(1100))), *this);
    }
  };
  s.schedule_after(0_ns, Arrival{&st});
  s.run_until(Time::zero() + 2_ms);  // warm-up: queue storage reaches its working size
  const std::uint64_t before = allocation_count();
  const std::uint64_t events = s.run_until(Time::zero() + 200_ms);
  CHECK(events > 300'000);
  CHECK(allocation_count() - before == 0);
}
