// Callback: a callable stored inline, never on the heap.
//
// The event loop must not allocate per event, so std::function (which may heap-allocate its
// capture) is out. A Callback holds any callable whose capture fits kCapacity bytes and is
// trivially copyable: pointers, ids, numbers, Time. A capture that owns memory (a std::string,
// a vector) does not compile, which is the point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace sim {

class Callback {
 public:
  static constexpr std::size_t kCapacity = 40;

  Callback() = default;

  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, Callback> && std::is_invocable_r_v<void, F&>)
      Callback(F f) {  // NOLINT: implicit on purpose, so a lambda can be passed directly
    static_assert(sizeof(F) <= kCapacity, "capture too large for an inline Callback");
    static_assert(alignof(F) <= alignof(std::uint64_t), "capture over-aligned");
    static_assert(std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>,
                  "capture must be trivially copyable (ids, pointers, numbers), never owning");
    ::new (static_cast<void*>(storage_)) F(std::move(f));
    invoke_ = [](void* storage) { (*std::launder(static_cast<F*>(storage)))(); };
  }

  explicit operator bool() const { return invoke_ != nullptr; }
  void operator()() { invoke_(storage_); }

 private:
  alignas(std::uint64_t) std::byte storage_[kCapacity];
  void (*invoke_)(void*) = nullptr;
};

}  // namespace sim
