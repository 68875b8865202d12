// A message between nodes: addressing, size, and a payload of the model's choosing, stored
// inline (no heap). A payload is any trivially copyable type of at most kPayloadCapacity bytes;
// the receiver asks for it by type and a wrong guess is a contract violation, not garbage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "sim/assert.hpp"
#include "sim/ids.hpp"
#include "sim/time.hpp"

namespace sim {

namespace detail {
template <class T>
inline constexpr char payload_type_tag = 0;  // its address identifies T (compared, never ordered)
}

template <class T>
concept Payload = std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T> &&
                  (sizeof(T) <= 64) &&
                  (alignof(T) <= 8);

struct Message {
  static constexpr std::size_t kPayloadCapacity = 64;

  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::uint32_t size_bytes = 0;
  std::uint64_t id = 0;  // unique per send; a duplicated message keeps its id
  Time sent_at;
  const void* type = nullptr;
  alignas(8) std::byte payload[kPayloadCapacity];

  template <Payload T>
  void set(const T& value) {
    std::memcpy(payload, &value, sizeof(T));
    type = &detail::payload_type_tag<T>;
  }
  template <Payload T>
  bool holds() const {
    return type == &detail::payload_type_tag<T>;
  }
  template <Payload T>
  T as() const {
    DSIM_ASSERT(holds<T>(), "message payload read as the wrong type");
    T value;
    std::memcpy(&value, payload, sizeof(T));
    return value;
  }
};

}  // namespace sim
