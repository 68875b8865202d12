// Reading the scenario's own objects (top level, network, faults, report): a fixed set of
// allowed keys, each read with the same value codec as model parameters.
#pragma once

#include <string>
#include <vector>

#include "scenario/scenario_error.hpp"
#include "scenario/value_codec.hpp"

namespace scenario {

class ObjectFields {
 public:
  /// Reports every key of `object` not in `allowed` (with a suggestion). If `object` is not an
  /// object, reports that and reads nothing.
  ObjectFields(const Json& object, std::string path, Problems& problems,
               const std::vector<std::string>& allowed);

  bool ok() const { return is_object_; }
  bool has(const char* key) const { return is_object_ && object_.contains(key); }
  const Json& at(const char* key) const { return object_.at(key); }
  std::string path(const std::string& key) const { return path_ + "/" + key; }
  Problems& problems() { return problems_; }

  /// Reads `key` into `out` if present; a missing required key is a problem. False on problems.
  template <class T>
  bool get(const char* key, T& out, models::Limits limits = {}, bool required = false) {
    if (!has(key)) {
      if (required && is_object_) problems_.add(path(key), std::string("missing (required)"));
      return !required;
    }
    std::string problem;
    if (read_value(object_.at(key), out, limits, problem)) return true;
    problems_.add(path(key), problem);
    return false;
  }

  /// A name or a list of names (node or component names).
  bool get_names(const char* key, std::vector<std::string>& out, bool required);

 private:
  const Json& object_;
  std::string path_;
  Problems& problems_;
  bool is_object_;
};

}  // namespace scenario
