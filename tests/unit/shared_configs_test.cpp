// BuildContext's sharing (models/shared/model.hpp): one immutable copy per source object and
// type for a component's nodes; interned values shared while they come out equal.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "models/shared/model.hpp"

using models::SharedConfigs;

TEST_CASE("shared configs: one copy per source and type, made once") {
  SharedConfigs shared;
  const std::string config = "config";
  int made = 0;
  const auto make = [&] {
    ++made;
    return config;
  };
  const auto a = shared.get<std::string>(&config, make);
  const auto b = shared.get<std::string>(&config, make);
  CHECK(a == b);  // the same object, not only an equal one
  CHECK(made == 1);
  CHECK(*a == "config");
  // Another type from the same source is another object.
  const auto size = shared.get<std::size_t>(&config, [&] { return config.size(); });
  CHECK(*size == 6);
  CHECK(shared.get<std::string>(&config, make) == a);
  // Another source is another object.
  const std::string other = "other";
  CHECK(shared.get<std::string>(&other, [&] { return other; }) != a);
}

TEST_CASE("shared configs: interned values are shared while equal") {
  SharedConfigs shared;
  const int source = 0;
  const auto first = shared.intern(&source, std::vector<int>{1, 2});
  const auto same = shared.intern(&source, std::vector<int>{1, 2});
  CHECK(same == first);
  // A node whose value differs (a colocated target) gets its own copy, handed out from then on.
  const auto differs = shared.intern(&source, std::vector<int>{3});
  CHECK(differs != first);
  CHECK(*differs == std::vector<int>{3});
  CHECK(*first == std::vector<int>{1, 2});  // what was handed out stays as it was
  CHECK(shared.intern(&source, std::vector<int>{3}) == differs);
}
