// Writes a Config back to JSON (every field, defaults included): the "effective scenario" of
// the report, and the defaults column of `dsim models`.
#pragma once

#include <type_traits>
#include <vector>

#include "models/shared/params.hpp"
#include "scenario/value_codec.hpp"

namespace scenario {

class ConfigWriter {
 public:
  template <class T>
  void field(const char* name, const T& member, const char* /*meaning*/, models::Limits = {}) {
    out_[name] = write_value(member);
  }

  template <class E, class Choices>
  requires std::is_enum_v<E>
  void field(const char* name, const E& member, const char* /*meaning*/, const Choices& choices) {
    for (const auto& c : choices)
      if (c.value == member) out_[name] = c.name;
  }

  template <class S>
  void section(const char* name, const S& member, const char* /*meaning*/) {
    out_[name] = write(member);
  }

  template <class S>
  void list(const char* name, const std::vector<S>& member, const char* /*meaning*/) {
    Json items = Json::array();
    for (const auto& item : member) items.push_back(write(item));
    out_[name] = std::move(items);
  }

  template <class S>
  static Json write(const S& config) {
    ConfigWriter writer;
    // describe() is not const (the reader writes through it); the writer only reads.
    const_cast<S&>(config).describe(writer);
    return std::move(writer.out_);
  }

 private:
  Json out_ = Json::object();
};

/// Collects every ComponentRef a Config holds (the wiring of the scenario).
class ReferenceCollector {
 public:
  template <class T>
  void field(const char* name, const T& member, const char*, models::Limits = {}) {
    if constexpr (std::is_same_v<T, models::ComponentRef>)
      if (!member.empty()) refs_.push_back({path_ + "/" + name, member.name});
  }
  template <class E, class Choices>
  requires std::is_enum_v<E>
  void field(const char*, const E&, const char*, const Choices&) {}
  template <class S>
  void section(const char* name, const S& member, const char*) {
    ReferenceCollector inner;
    inner.path_ = path_ + "/" + name;
    const_cast<S&>(member).describe(inner);
    refs_.insert(refs_.end(), inner.refs_.begin(), inner.refs_.end());
  }
  template <class S>
  void list(const char* name, const std::vector<S>& member, const char*) {
    for (std::size_t i = 0; i < member.size(); ++i) {
      ReferenceCollector inner;
      inner.path_ = path_ + "/" + name + "/" + std::to_string(i);
      const_cast<S&>(member[i]).describe(inner);
      refs_.insert(refs_.end(), inner.refs_.begin(), inner.refs_.end());
    }
  }

  struct Ref {
    std::string path;  // relative to the component: "/target"
    std::string name;
  };
  template <class S>
  static std::vector<Ref> collect(const S& config) {
    ReferenceCollector c;
    const_cast<S&>(config).describe(c);
    return c.refs_;
  }

 private:
  std::string path_;
  std::vector<Ref> refs_;
};

}  // namespace scenario
