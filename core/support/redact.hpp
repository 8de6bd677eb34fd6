#pragma once
/// Keeps secrets out of what a user sees: values under keys that a secret pattern names
/// ("password", "secret", "token", "key" unless configured otherwise) are replaced by a marker
/// in every output. A pattern names a whole segment of a key (`api_token`, `secretAccessKey`,
/// `db-passwords`), never a part of one (`monkey`, `keycloak_url` stay visible).

#include <string>
#include <string_view>
#include <vector>

#include "core/support/datum.hpp"

namespace prov {

/// What a redacted value shows instead of itself.
inline constexpr const char* kRedacted = "<redacted>";

/// The patterns in force when none are configured: password, secret, token, key, and the
/// one-segment compounds apikey and passwd (a pattern names a whole segment).
const std::vector<std::string>& default_secret_patterns();

/// The patterns in force: `secrets.patterns` of a configuration record when it is a list of
/// strings, else the defaults.
std::vector<std::string> secret_patterns(const Datum& config);

/// True when a segment of `key` (one name, not a path) is a pattern, ignoring case and a plural
/// `s`. Segments are split at `_`, `-`, `.`, spaces and lower-to-upper case changes; a pattern of
/// several segments matches them in a row.
bool is_secret_key(std::string_view key, const std::vector<std::string>& patterns);

/// A copy of `value` in which everything under a secret key is the marker: a table or list
/// there keeps its shape, each leaf replaced, so that a path into it still leads somewhere.
/// `path` is where `value` sits (its members). Everything in
/// the top-level `secrets` table is secret except `secrets.patterns`, the list of patterns.
Datum redact(const Datum& value, const std::vector<std::string>& patterns,
             const std::vector<std::string>& path = {});

/// A configuration in two parts: `shown`, exactly redact() of it, fit for any file or output;
/// and `hidden`, what the markers stand for, for a private place only: a list of
/// `{at: [member or list index …], value}`. join_secrets(shown, hidden) gives the original back.
struct SecretSplit {
  Datum shown;
  Datum hidden;
};
SecretSplit split_secrets(const Datum& config, const std::vector<std::string>& patterns);

/// `text` with every occurrence of each of `values` (secret values, such as split_secrets'
/// hidden ones) replaced by the marker; values shorter than 4 bytes are left alone (they would
/// hide ordinary text and hardly hide anything).
std::string redact_values(std::string text, const std::vector<std::string>& values);

/// `shown` with every value of `hidden` (as split_secrets made it) put back where it was. Throws
/// ResourceError `provisioning::state::corrupt_secrets` when an entry does not fit `shown`.
Datum join_secrets(Datum shown, const Datum& hidden);

}  // namespace prov
