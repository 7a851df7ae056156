// The store's lookups and its namespace and label indexes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "operator/label_selector.h"
#include "operator/store.h"

using namespace kubert;

namespace {
ObjectPtr obj(const std::string& ns, const std::string& name, nlohmann::json labels = nlohmann::json::object()) {
  return std::make_shared<const nlohmann::json>(
      nlohmann::json{{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}}});
}
}  // namespace

TEST_CASE("store: get, list by namespace, upsert returns the old object") {
  Store s;
  CHECK(s.upsert(obj("a", "x")) == nullptr);
  s.upsert(obj("a", "y"));
  s.upsert(obj("b", "x"));
  CHECK(s.size() == 3);
  REQUIRE(s.get("a", "x"));
  CHECK(s.get("a", "z") == nullptr);
  CHECK(s.list("a").size() == 2);
  CHECK(s.list().size() == 3);
  CHECK(s.list("c").empty());
  CHECK(s.upsert(obj("a", "x", {{"k", "v"}})) != nullptr);
  CHECK(s.size() == 3);
  CHECK(s.keys() == std::vector<std::string>{"a/x", "a/y", "b/x"});
}

TEST_CASE("store: the label index follows label changes and removals") {
  Store s;
  s.upsert(obj("a", "x", {{"app", "web"}}));
  s.upsert(obj("a", "y", {{"app", "web"}}));
  s.upsert(obj("b", "z", {{"app", "db"}}));
  CHECK(s.list_by_label("app", "web").size() == 2);
  s.upsert(obj("a", "y", {{"app", "db"}}));
  CHECK(s.list_by_label("app", "web").size() == 1);
  CHECK(s.list_by_label("app", "db").size() == 2);
  CHECK(s.remove("b", "z") != nullptr);
  CHECK(s.remove("b", "z") == nullptr);
  CHECK(s.list_by_label("app", "db").size() == 1);
  CHECK(s.list("b").empty());
  CHECK(s.list_by_selector(LabelSelector::parse("app in (web,db)")).size() == 2);
  CHECK(s.list_by_selector(LabelSelector::parse("app=web"), "b").empty());
}

TEST_CASE("store: cluster-scoped objects are keyed by name") {
  Store s;
  s.upsert(obj("", "node1"));
  CHECK(s.get("", "node1"));
  CHECK(s.keys() == std::vector<std::string>{"node1"});
}

TEST_CASE("label selector: malformed selectors are rejected") {
  CHECK_THROWS(LabelSelector::parse("a in b"));
  CHECK_THROWS(LabelSelector::parse("a,,b"));
  CHECK(LabelSelector::parse("a notin (x)").matches(nlohmann::json{{"a", "y"}}));
  CHECK_FALSE(LabelSelector::parse("a notin (x)").matches(nlohmann::json{{"a", "x"}}));
  CHECK(LabelSelector::parse("a!=x").matches(nullptr));
}
