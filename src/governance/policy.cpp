#include "governance/policy.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace lakerouter::governance {

namespace {

constexpr std::array<std::string_view, 6> kPrivilegeNames = {"SELECT",    "INSERT",   "DELETE",
                                                             "UPDATE",    "OWNERSHIP", "GRANT_SELECT"};

// Sections Trino reads and lakerouter leaves to it.
constexpr std::array<std::string_view, 10> kTrinoOnlySections = {
    "queries",   "impersonation",        "principals",    "system_information", "system_session_properties",
    "catalog_session_properties", "functions", "procedures", "authorization",      "table_procedures"};

// 1-based line and column of a byte offset, for JSON syntax errors.
std::pair<size_t, size_t> line_and_column(std::string_view text, size_t offset) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

std::string_view privilege_name(Privilege p) { return kPrivilegeNames[static_cast<size_t>(p)]; }

bool Policy::Pattern::matches(std::string_view s) const {
  return !re || std::regex_match(s.begin(), s.end(), *re);
}

bool Policy::Who::matches(const Subject& s) const {
  if (names_role || !user.matches(s.user)) return false;
  if (!group.re) return true;
  return std::any_of(s.groups.begin(), s.groups.end(), [&](const std::string& g) { return group.matches(g); });
}

// Reads one rules.json document into a Policy; the first problem found is the error.
class Policy::Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Result<Policy> read(std::string_view json) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(json.data(), json.size());
    if (doc.HasParseError()) {
      const auto [line, column] = line_and_column(json, doc.GetErrorOffset());
      return Error(ErrorCode::kConfigError, fmt::format("{}:{}:{}: not valid JSON: {}", source_, line, column,
                                                        rapidjson::GetParseError_En(doc.GetParseError())));
    }
    if (!doc.IsObject()) return fail("", "the file must hold one JSON object, e.g. {\"tables\": [...]}");
    Policy policy;
    for (const auto& member : doc.GetObject()) {
      const std::string_view key(member.name.GetString(), member.name.GetStringLength());
      if (key == "catalogs") {
        policy.has_catalogs_ = true;
        LR_TRY(section(member.value, "catalogs", policy.catalogs_, &Reader::catalog_rule));
      } else if (key == "schemas") {
        policy.has_schemas_ = true;
        LR_TRY(section(member.value, "schemas", policy.schemas_, &Reader::schema_rule));
      } else if (key == "tables") {
        policy.has_tables_ = true;
        LR_TRY(section(member.value, "tables", policy.tables_, &Reader::table_rule));
      } else if (std::find(kTrinoOnlySections.begin(), kTrinoOnlySections.end(), key) == kTrinoOnlySections.end()) {
        return fail(std::string(key), "unknown section; lakerouter reads catalogs, schemas and tables (Trino's other "
                                      "sections are accepted and left to Trino)");
      }
    }
    return policy;
  }

 private:
  using Value = rapidjson::Value;

  Error fail(const std::string& at, std::string_view why) const {
    return Error(ErrorCode::kConfigError, at.empty() ? fmt::format("{}: {}", source_, why)
                                                     : fmt::format("{}: {}: {}", source_, at, why));
  }

  // A list of rules, each read by `read` (one of the *_rule members) into `out`.
  template <typename Rule>
  Status section(const Value& v, const std::string& name, std::vector<Rule>& out,
                 Result<Rule> (Reader::*read)(const Value&, const std::string&) const) const {
    if (!v.IsArray()) return fail(name, "expected a list of rules");
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      const std::string at = fmt::format("{}[{}]", name, i);
      if (!v[i].IsObject()) return fail(at, "expected an object");
      auto rule = (this->*read)(v[i], at);
      if (!rule.ok()) return rule.error();
      out.push_back(std::move(*rule));
    }
    return Status::Ok();
  }

  // Rejects keys a rule of this kind does not have (a typo must not widen access).
  Status known_keys(const Value& rule, const std::string& at, std::initializer_list<std::string_view> keys) const {
    for (const auto& member : rule.GetObject()) {
      const std::string_view key(member.name.GetString(), member.name.GetStringLength());
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string expected;
        for (auto k : keys) expected += (expected.empty() ? "" : ", ") + std::string(k);
        return fail(at, fmt::format("unknown key '{}'; expected one of {}", key, expected));
      }
    }
    return Status::Ok();
  }

  Result<std::optional<std::string>> string_field(const Value& rule, const char* key, const std::string& at) const {
    auto it = rule.FindMember(key);
    if (it == rule.MemberEnd()) return std::optional<std::string>();
    if (!it->value.IsString()) return fail(at + "." + key, "expected a string");
    return std::optional<std::string>(std::string(it->value.GetString(), it->value.GetStringLength()));
  }

  Result<Pattern> pattern(const Value& rule, const char* key, const std::string& at) const {
    auto text = string_field(rule, key, at);
    if (!text.ok()) return text.error();
    Pattern p;
    if (!*text || **text == ".*") return p;
    p.text = **text;
    try {
      p.re = std::make_shared<const std::regex>(p.text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(at + "." + key, fmt::format("'{}' is not a valid regular expression: {}", p.text, e.what()));
    }
    return p;
  }

  Result<Who> who(const Value& rule, const std::string& at) const {
    Who w;
    auto user = pattern(rule, "user", at);
    if (!user.ok()) return user.error();
    auto group = pattern(rule, "group", at);
    if (!group.ok()) return group.error();
    auto role = pattern(rule, "role", at);
    if (!role.ok()) return role.error();
    w.user = std::move(*user);
    w.group = std::move(*group);
    w.names_role = role->re != nullptr;
    return w;
  }

  // `{"user": "name"}`: the identity Trino evaluates a filter or mask as.
  Result<std::optional<std::string>> environment(const Value& rule, const char* key, const std::string& at) const {
    auto it = rule.FindMember(key);
    if (it == rule.MemberEnd()) return std::optional<std::string>();
    const std::string here = at + "." + key;
    if (!it->value.IsObject()) return fail(here, "expected an object like {\"user\": \"name\"}");
    LR_TRY(known_keys(it->value, here, {"user"}));
    auto user = string_field(it->value, "user", here);
    if (!user.ok()) return user.error();
    return *user;
  }

  Result<CatalogRule> catalog_rule(const Value& v, const std::string& at) const {
    LR_TRY(known_keys(v, at, {"user", "group", "role", "catalog", "allow"}));
    CatalogRule rule;
    auto w = who(v, at);
    if (!w.ok()) return w.error();
    rule.who = std::move(*w);
    auto catalog = pattern(v, "catalog", at);
    if (!catalog.ok()) return catalog.error();
    rule.catalog = std::move(*catalog);
    auto it = v.FindMember("allow");
    if (it == v.MemberEnd()) return fail(at, "missing 'allow' (\"all\", \"read-only\" or \"none\")");
    if (it->value.IsBool()) {
      rule.allow = it->value.GetBool() ? CatalogAccess::kAll : CatalogAccess::kNone;
    } else if (it->value.IsString() && std::string_view(it->value.GetString()) == "all") {
      rule.allow = CatalogAccess::kAll;
    } else if (it->value.IsString() && std::string_view(it->value.GetString()) == "read-only") {
      rule.allow = CatalogAccess::kReadOnly;
    } else if (it->value.IsString() && std::string_view(it->value.GetString()) == "none") {
      rule.allow = CatalogAccess::kNone;
    } else {
      return fail(at + ".allow", "expected \"all\", \"read-only\" or \"none\"");
    }
    return rule;
  }

  Result<SchemaRule> schema_rule(const Value& v, const std::string& at) const {
    LR_TRY(known_keys(v, at, {"user", "group", "role", "catalog", "schema", "owner"}));
    SchemaRule rule;
    auto w = who(v, at);
    if (!w.ok()) return w.error();
    rule.who = std::move(*w);
    auto catalog = pattern(v, "catalog", at);
    if (!catalog.ok()) return catalog.error();
    auto schema = pattern(v, "schema", at);
    if (!schema.ok()) return schema.error();
    rule.catalog = std::move(*catalog);
    rule.schema = std::move(*schema);
    auto it = v.FindMember("owner");
    if (it == v.MemberEnd() || !it->value.IsBool()) return fail(at + ".owner", "expected true or false");
    rule.owner = it->value.GetBool();
    return rule;
  }

  Result<TableRule> table_rule(const Value& v, const std::string& at) const {
    LR_TRY(known_keys(v, at, {"user", "group", "role", "catalog", "schema", "table", "privileges", "columns", "filter",
                              "filter_environment"}));
    TableRule rule;
    auto w = who(v, at);
    if (!w.ok()) return w.error();
    rule.who = std::move(*w);
    for (auto [key, target] : {std::pair{"catalog", &rule.catalog}, std::pair{"schema", &rule.schema},
                               std::pair{"table", &rule.table}}) {
      auto p = pattern(v, key, at);
      if (!p.ok()) return p.error();
      *target = std::move(*p);
    }
    auto privileges = v.FindMember("privileges");
    if (privileges == v.MemberEnd()) {
      return fail(at, "missing 'privileges' (a list of SELECT, INSERT, DELETE, UPDATE, OWNERSHIP, GRANT_SELECT; [] "
                      "denies the table)");
    }
    if (!privileges->value.IsArray()) return fail(at + ".privileges", "expected a list");
    for (rapidjson::SizeType i = 0; i < privileges->value.Size(); ++i) {
      const auto& p = privileges->value[i];
      const auto it = p.IsString() ? std::find(kPrivilegeNames.begin(), kPrivilegeNames.end(), p.GetString())
                                   : kPrivilegeNames.end();
      if (it == kPrivilegeNames.end()) {
        return fail(fmt::format("{}.privileges[{}]", at, i),
                    "expected one of SELECT, INSERT, DELETE, UPDATE, OWNERSHIP, GRANT_SELECT");
      }
      rule.privileges |= static_cast<uint8_t>(1U << (it - kPrivilegeNames.begin()));
    }
    if (auto columns = v.FindMember("columns"); columns != v.MemberEnd()) {
      if (!columns->value.IsArray()) return fail(at + ".columns", "expected a list");
      for (rapidjson::SizeType i = 0; i < columns->value.Size(); ++i) {
        auto column = column_rule(columns->value[i], fmt::format("{}.columns[{}]", at, i));
        if (!column.ok()) return column.error();
        rule.columns.push_back(std::move(*column));
      }
    }
    auto filter = string_field(v, "filter", at);
    if (!filter.ok()) return filter.error();
    rule.filter = std::move(*filter);
    auto run_as = environment(v, "filter_environment", at);
    if (!run_as.ok()) return run_as.error();
    rule.filter_run_as = std::move(*run_as);
    return rule;
  }

  Result<ColumnRule> column_rule(const Value& v, const std::string& at) const {
    if (!v.IsObject()) return fail(at, "expected an object like {\"name\": \"email\", \"allow\": false}");
    LR_TRY(known_keys(v, at, {"name", "allow", "mask", "mask_environment"}));
    ColumnRule rule;
    auto name = string_field(v, "name", at);
    if (!name.ok()) return name.error();
    if (!*name || (*name)->empty()) return fail(at, "missing 'name'");
    rule.name = **name;
    std::transform(rule.name.begin(), rule.name.end(), rule.name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto allow = v.FindMember("allow"); allow != v.MemberEnd()) {
      if (!allow->value.IsBool()) return fail(at + ".allow", "expected true or false");
      rule.allow = allow->value.GetBool();
    }
    auto mask = string_field(v, "mask", at);
    if (!mask.ok()) return mask.error();
    rule.mask = std::move(*mask);
    auto run_as = environment(v, "mask_environment", at);
    if (!run_as.ok()) return run_as.error();
    rule.mask_run_as = std::move(*run_as);
    if (!rule.allow && rule.mask) return fail(at, "a denied column (\"allow\": false) cannot also have a mask");
    return rule;
  }

  std::string source_;
};

Result<Policy> Policy::parse(std::string_view json, std::string_view source) { return Reader(source).read(json); }

Result<Policy> Policy::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(ErrorCode::kConfigError, fmt::format("cannot read the policy file {}", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

CatalogAccess Policy::catalog_access(const Subject& who, std::string_view catalog) const {
  if (!has_catalogs_) return CatalogAccess::kAll;
  for (const auto& rule : catalogs_) {
    if (rule.who.matches(who) && rule.catalog.matches(catalog)) return rule.allow;
  }
  return CatalogAccess::kNone;
}

bool Policy::schema_owner(const Subject& who, std::string_view catalog, std::string_view schema) const {
  if (!has_schemas_) return true;
  for (const auto& rule : schemas_) {
    if (rule.who.matches(who) && rule.catalog.matches(catalog) && rule.schema.matches(schema)) return rule.owner;
  }
  return false;
}

TableAccess Policy::table_access(const Subject& who, const TableName& table) const {
  TableAccess access;
  // std::regex recurses per character: names from client SQL are bounded before any match.
  constexpr size_t kMaxName = 1024;
  if (table.catalog.size() > kMaxName || table.schema.size() > kMaxName || table.table.size() > kMaxName ||
      who.user.size() > kMaxName) {
    return access;
  }
  const CatalogAccess catalog = catalog_access(who, table.catalog);
  if (catalog == CatalogAccess::kNone) return access;
  const uint8_t read_only = (1U << static_cast<int>(Privilege::kSelect)) | (1U << static_cast<int>(Privilege::kGrantSelect));
  if (!has_tables_) {
    access.matched = true;
    access.privileges = catalog == CatalogAccess::kReadOnly ? read_only : 0x3F;
    return access;
  }
  for (size_t i = 0; i < tables_.size(); ++i) {
    const TableRule& rule = tables_[i];
    if (!rule.who.matches(who) || !rule.catalog.matches(table.catalog) || !rule.schema.matches(table.schema) ||
        !rule.table.matches(table.table)) {
      continue;
    }
    access.matched = true;
    access.rule = static_cast<int>(i) + 1;
    access.privileges = catalog == CatalogAccess::kReadOnly ? (rule.privileges & read_only) : rule.privileges;
    for (const auto& column : rule.columns) {
      if (!column.allow) {
        access.denied_columns.push_back(column.name);
      } else if (column.mask) {
        access.masks.push_back(ColumnMask{column.name, *column.mask, column.mask_run_as});
      }
    }
    access.filter = rule.filter;
    access.filter_run_as = rule.filter_run_as;
    return access;
  }
  return access;
}

}  // namespace lakerouter::governance
