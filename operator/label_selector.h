// Kubernetes label selectors ("a=b,c!=d,e,!f,g in (x,y),h notin (z)") parsed once, matched against labels.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kubert {

class LabelSelector {
 public:
  // Throws std::invalid_argument on a malformed selector. "" selects everything.
  static LabelSelector parse(const std::string& text);

  // labels: an object of string values (metadata.labels), or null.
  bool matches(const nlohmann::json& labels) const;
  bool empty() const { return reqs_.empty(); }

 private:
  enum class Op { Eq, NotEq, Exists, NotExists, In, NotIn };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
};

}  // namespace kubert
