#include "scenario/object_fields.hpp"

namespace scenario {

ObjectFields::ObjectFields(const Json& object, std::string path, Problems& problems,
                           const std::vector<std::string>& allowed)
    : object_(object), path_(std::move(path)), problems_(problems), is_object_(object.is_object()) {
  if (!is_object_) {
    problems_.add(path_, "expected an object, got " + shown(object));
    return;
  }
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (known) continue;
    const std::string suggestion = closest_name(key, allowed);
    problems_.add(path_ + "/" + key,
                  "unknown key \"" + key + "\"" +
                      (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)"));
  }
}

bool ObjectFields::get_names(const char* key, std::vector<std::string>& out, bool required) {
  if (!has(key)) {
    if (required && is_object_) problems_.add(path(key), "missing (required)");
    return !required;
  }
  const Json& value = object_.at(key);
  auto bad = [&] {
    problems_.add(path(key),
                  "expected a node or component name, or a list of them, got " + shown(value));
    return false;
  };
  if (value.is_string()) {
    out = {value.get<std::string>()};
    return true;
  }
  if (!value.is_array() || value.empty()) return bad();
  out.clear();
  for (const auto& item : value) {
    if (!item.is_string()) return bad();
    out.push_back(item.get<std::string>());
  }
  return true;
}

}  // namespace scenario
