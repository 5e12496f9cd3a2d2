// PostgreSQL catalog compatibility for the DuckDB engine: rewrites, on DuckDB's parse tree, the
// catalog statements psql's backslash commands send (\d, \dt, \dv, \dn, \l) where DuckDB's
// pg_catalog emulation falls short. DuckDB refuses new entries in its pg_catalog schema, and a
// macro elsewhere is not found under the `pg_catalog.` qualifier psql writes, so the statement
// itself is changed. What is mapped (docs/pgwire.md, "psql's backslash commands"):
//   - pg_get_userbyid(oid)       -> 'lakerouter'  (everything the router shows has one owner)
//   - pg_encoding_to_char(int)   -> 'UTF8'        (the only encoding the front-end speaks)
//   - pg_catalog.pg_database     -> the same rows plus the columns psql 15's \l reads and DuckDB
//                                   lacks (datdba, encoding, datcollate, datctype, daticulocale,
//                                   datlocprovider, datacl)
//   - pg_catalog.pg_class        -> the same rows, with relkind 'r' for the views the DuckDB engine
//                                   creates for lake tables (marked with kLakeTableComment): users
//                                   see lake tables as tables in \d and \dt, as on every other engine
//   - pg_catalog.pg_attribute    -> the same rows, atttypid as PostgreSQL type OIDs that pg_type
//                                   lists (DuckDB stores its own type ids there; JDBC's getColumns
//                                   joins the two)
//   - pg_catalog.array_to_string -> array_to_string (DuckDB has it, but not under pg_catalog)
//   - `x OPERATOR(pg_catalog.~) 'pattern'` (psql's name patterns) -> regexp_matches(x, 'pattern');
//     DuckDB parses it but keeps only the operator's schema, so the spelling is checked in the text
//   - `COLLATE pg_catalog.default`   -> no COLLATE (DuckDB has no collation of that name)
// Functions are matched unqualified or qualified by pg_catalog; tables only as `pg_catalog.<name>`.
// The rewrite runs only for statements that read a pg_catalog table or call a function above.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "sql/query_profile.h"

namespace lakerouter::sql {

// The comment the DuckDB engine puts on the view it creates for each lake table.
inline constexpr std::string_view kLakeTableComment = "lakerouter lake table";

// Whether `profile`'s statement names a function or table pg_compat_rewrite() maps: decided from
// what the analyzer already recorded, so other statements are not parsed again.
bool needs_pg_compat(const QueryProfile& profile);

// `sql` (one statement) with the mappings above applied, printed back from the parse tree; the
// text unchanged when nothing applies or the statement is not a query. kSyntaxError when DuckDB
// cannot parse it.
Result<std::string> pg_compat_rewrite(std::string_view sql);

}  // namespace lakerouter::sql
