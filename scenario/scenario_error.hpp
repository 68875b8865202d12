// Bad input: what the user wrote wrong, where, and what was expected instead.
// Printed as "FILE: /json/path: expected ..., got ..." and turned into exit status 2; one line
// per problem: control characters from the file are escaped as in JSON ("\n", "\u001b").
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace scenario {

struct Problem {
  std::string path;     // JSON pointer, "/components/api/workers"; "" for the whole file
  std::string message;  // "expected an integer >= 1, got 0"
};

class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(std::string file, std::vector<Problem> problems);
  const std::string& file() const { return file_; }
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  std::string file_;
  std::vector<Problem> problems_;
};

/// Collects problems while reading, so that one run reports every mistake in a file.
class Problems {
 public:
  void add(std::string path, std::string message) {
    items_.push_back({std::move(path), std::move(message)});
  }
  bool empty() const { return items_.empty(); }
  const std::vector<Problem>& items() const { return items_; }
  /// Throws ScenarioError for `file` if any problem was found.
  void throw_if_any(const std::string& file) const;

 private:
  std::vector<Problem> items_;
};

}  // namespace scenario
