// Parses and matches label selectors with the set-based grammar the API server accepts.
#include "operator/label_selector.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace kubert {
namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

std::vector<std::string> parse_set(const std::string& term, const std::string& rest) {
  const std::string r = trim(rest);
  if (r.size() < 2 || r.front() != '(' || r.back() != ')') {
    throw std::invalid_argument("label selector term \"" + term + "\": expected a (value, ...) set");
  }
  std::vector<std::string> values;
  std::string cur;
  for (char c : r.substr(1, r.size() - 2)) {
    if (c == ',') {
      values.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  values.push_back(trim(cur));
  return values;
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& term : split_terms(text)) {
    if (term.empty()) throw std::invalid_argument("label selector \"" + text + "\": empty term");
    Requirement req;
    std::size_t pos;
    if (term[0] == '!') {
      req = {trim(term.substr(1)), Op::NotExists, {}};
    } else if ((pos = term.find("!=")) != std::string::npos) {
      req = {trim(term.substr(0, pos)), Op::NotEq, {trim(term.substr(pos + 2))}};
    } else if ((pos = term.find("==")) != std::string::npos) {
      req = {trim(term.substr(0, pos)), Op::Eq, {trim(term.substr(pos + 2))}};
    } else if ((pos = term.find('=')) != std::string::npos) {
      req = {trim(term.substr(0, pos)), Op::Eq, {trim(term.substr(pos + 1))}};
    } else if ((pos = term.find(" notin ")) != std::string::npos) {
      req = {trim(term.substr(0, pos)), Op::NotIn, parse_set(term, term.substr(pos + 7))};
    } else if ((pos = term.find(" in ")) != std::string::npos) {
      req = {trim(term.substr(0, pos)), Op::In, parse_set(term, term.substr(pos + 4))};
    } else {
      req = {term, Op::Exists, {}};
    }
    if (req.key.empty() || req.key.find_first_of(" ()") != std::string::npos) {
      throw std::invalid_argument("label selector term \"" + term + "\": bad key");
    }
    sel.reqs_.push_back(std::move(req));
  }
  return sel;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  for (const Requirement& r : reqs_) {
    const bool has = labels.is_object() && labels.contains(r.key) && labels[r.key].is_string();
    const std::string value = has ? labels[r.key].get<std::string>() : std::string();
    const bool in_set = has && std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    bool ok = false;
    switch (r.op) {
      case Op::Eq: ok = has && value == r.values[0]; break;
      case Op::NotEq: ok = !has || value != r.values[0]; break;
      case Op::Exists: ok = has; break;
      case Op::NotExists: ok = !has; break;
      case Op::In: ok = in_set; break;
      case Op::NotIn: ok = !in_set; break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace kubert
