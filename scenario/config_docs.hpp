// Documents a Config for `dsim models`: every parameter with its type, default (written by the
// same code that writes reports) and meaning, from the Config's one describe().
#pragma once

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "models/shared/params.hpp"
#include "scenario/config_writer.hpp"
#include "scenario/value_codec.hpp"

namespace scenario {

struct ParamDoc {
  std::string name;  // dotted for nested: "retry.max_attempts"; "schedule[].at" for lists
  std::string type;  // "duration", "rate", "one of: fifo, lifo", ...
  std::string default_value;
  std::string meaning;
};

class ConfigDocs {
 public:
  template <class T>
  void field(const char* name, const T& member, const char* meaning, models::Limits limits = {}) {
    std::string type = type_name(member);
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) type += limits_text(limits);
    add(name, type, write_value(member), meaning);
  }

  template <class E, class Choices>
  requires std::is_enum_v<E>
  void field(const char* name, const E& member, const char* meaning, const Choices& choices) {
    std::string type = "one of:";
    std::string value;
    std::string detail;
    for (const auto& c : choices) {
      type += std::string(type.back() == ':' ? " " : ", ") + c.name;
      if (c.value == member) value = c.name;
      detail += std::string("\n    ") + c.name + ": " + c.meaning;
    }
    add(name, type, Json(value), std::string(meaning) + detail);
  }

  template <class S>
  void section(const char* name, const S& member, const char* meaning) {
    add(name, "section", Json(), meaning);
    nest(prefix_ + name + ".", member);
  }

  template <class S>
  void list(const char* name, const std::vector<S>& /*member*/, const char* meaning) {
    add(name, "list", Json::array(), meaning);
    nest(prefix_ + name + "[].", S{});
  }

  template <class S>
  static std::vector<ParamDoc> of(const S& config) {
    ConfigDocs docs;
    const_cast<S&>(config).describe(docs);
    return docs.docs_;
  }

 private:
  static std::string limits_text(const models::Limits& l) {
    auto num = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v);
      return std::string(buf);
    };
    if (std::isfinite(l.min) && std::isfinite(l.max))
      return " in [" + num(l.min) + ", " + num(l.max) + "]";
    if (std::isfinite(l.min)) return " >= " + num(l.min);
    if (std::isfinite(l.max)) return " <= " + num(l.max);
    return "";
  }
  void add(const std::string& name, std::string type, const Json& value, std::string meaning) {
    docs_.push_back(
        {prefix_ + name, std::move(type), value.is_null() ? "" : value.dump(), std::move(meaning)});
  }
  template <class S>
  void nest(const std::string& prefix, const S& member) {
    ConfigDocs inner;
    inner.prefix_ = prefix;
    const_cast<S&>(member).describe(inner);
    docs_.insert(docs_.end(), inner.docs_.begin(), inner.docs_.end());
  }

  std::string prefix_;
  std::vector<ParamDoc> docs_;
};

}  // namespace scenario
