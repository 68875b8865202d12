#pragma once
#include <cstdint>
#include <limits>

namespace sim {
/// Nodes are numbered 0..n-1 in the order they were added.
using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();
/// Directed links are numbered in the order they were added (a bidirectional link is two).
using LinkId = std::uint32_t;
inline constexpr LinkId kNoLink = std::numeric_limits<LinkId>::max();
}  // namespace sim
