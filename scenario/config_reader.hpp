// Reads a model's Config from JSON by walking its describe(): each field present is parsed
// (problems are collected with their JSON path), each absent field keeps its default, and any
// key the Config does not describe is an error ("unknown key", with a suggestion).
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "models/shared/params.hpp"
#include "scenario/scenario_error.hpp"
#include "scenario/value_codec.hpp"

namespace scenario {

class ConfigReader {
 public:
  /// Reads from `object` at `path`; `reserved` keys belong to the caller (model, count, ...).
  ConfigReader(const Json& object, std::string path, Problems& problems,
               std::vector<std::string> reserved = {})
      : object_(object), path_(std::move(path)), problems_(problems), known_(std::move(reserved)) {}

  template <class T>
  void field(const char* name, T& member, const char* /*meaning*/, models::Limits limits = {}) {
    known_.emplace_back(name);
    if (!object_.contains(name)) return;
    std::string problem;
    if (!read_value(object_.at(name), member, limits, problem))
      problems_.add(path_ + "/" + name, problem);
  }

  template <class E, class Choices>
  requires std::is_enum_v<E>
  void field(const char* name, E& member, const char* /*meaning*/, const Choices& choices) {
    known_.emplace_back(name);
    if (!object_.contains(name)) return;
    const Json& value = object_.at(name);
    std::string names;
    for (const auto& c : choices) {
      names += std::string(names.empty() ? "" : ", ") + c.name;
      if (value.is_string() && value.get<std::string>() == c.name) {
        member = c.value;
        return;
      }
    }
    problems_.add(path_ + "/" + name, "expected one of " + names + ", got " + shown(value));
  }

  template <class S>
  void section(const char* name, S& member, const char* /*meaning*/) {
    known_.emplace_back(name);
    if (!object_.contains(name)) return;
    read_object(object_.at(name), path_ + "/" + name, member);
  }

  template <class S>
  void list(const char* name, std::vector<S>& member, const char* /*meaning*/) {
    known_.emplace_back(name);
    if (!object_.contains(name)) return;
    const Json& value = object_.at(name);
    if (!value.is_array()) {
      problems_.add(path_ + "/" + name, "expected a list, got " + shown(value));
      return;
    }
    member.clear();
    for (std::size_t i = 0; i < value.size(); ++i) {
      S item{};
      read_object(value[i], path_ + "/" + name + "/" + std::to_string(i), item);
      member.push_back(std::move(item));
    }
  }

  /// Reports every key that no field claimed.
  void finish() {
    for (const auto& [key, value] : object_.items()) {
      bool claimed = false;
      for (const auto& k : known_) claimed = claimed || k == key;
      if (claimed) continue;
      const std::string suggestion = closest_name(key, known_);
      problems_.add(path_ + "/" + key,
                    "unknown key \"" + key + "\"" +
                        (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)"));
    }
  }

  /// Reads a whole struct with describe() from `value` at `path`.
  template <class S>
  static void read(const Json& value, const std::string& path, Problems& problems, S& out,
                   std::vector<std::string> reserved = {}) {
    if (!value.is_object()) {
      problems.add(path, "expected an object, got " + shown(value));
      return;
    }
    ConfigReader reader(value, path, problems, std::move(reserved));
    out.describe(reader);
    reader.finish();
  }

 private:
  template <class S>
  void read_object(const Json& value, const std::string& path, S& out) {
    read(value, path, problems_, out);
  }

  const Json& object_;
  std::string path_;
  Problems& problems_;
  std::vector<std::string> known_;
};

}  // namespace scenario
