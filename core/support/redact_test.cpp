#include "core/support/redact.hpp"

#include <catch2/catch.hpp>

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"

using namespace prov;

namespace {
const std::vector<std::string> kDefault = {"password", "secret", "token", "key"};
}

TEST_CASE("secret keys are found by whole segments, ignoring case", "[redact]") {
  CHECK(is_secret_key("api_token", kDefault));
  CHECK(is_secret_key("DB_PASSWORD", kDefault));
  CHECK(is_secret_key("ssh_key", kDefault));
  CHECK(is_secret_key("client-Secret", kDefault));
  CHECK(is_secret_key("secret_access_key", kDefault));
  CHECK(is_secret_key("secretAccessKey", kDefault));
  CHECK(is_secret_key("passwords", kDefault));
  CHECK(is_secret_key("password", kDefault));
  CHECK_FALSE(is_secret_key("timeout", kDefault));
  CHECK_FALSE(is_secret_key("owner", kDefault));
  // Parts of words are not secrets.
  CHECK_FALSE(is_secret_key("monkey", kDefault));
  CHECK_FALSE(is_secret_key("keycloak_url", kDefault));
  CHECK_FALSE(is_secret_key("tokenizer", kDefault));
  CHECK_FALSE(is_secret_key("apikey", kDefault));  // one segment: "key" is not part of it
  CHECK(is_secret_key("apikey", default_secret_patterns()));  // the defaults name it
  CHECK(is_secret_key("db_passwd", default_secret_patterns()));
  // A pattern of several segments matches them in a row.
  CHECK(is_secret_key("aws_access_key_id", {"access_key"}));
  CHECK_FALSE(is_secret_key("access_log_key", {"access_key"}));
  CHECK_FALSE(is_secret_key("anything", {}));
}

TEST_CASE("redaction replaces every value under a secret key, at any depth", "[redact]") {
  Datum cfg(DatumRecord{
      {"providers", Datum(DatumRecord{{"aws", Datum(DatumRecord{{"region", "us-west-2"},
                                                                  {"api_token", "t0ps3cret"},
                                                                  {"credentials_key", Datum(DatumRecord{{"id", "AKIA"}})}})}})},
      {"db", Datum(DatumRecord{{"passwords", Datum(DatumList{"a", "b"})}, {"port", 5432}})},
      {"secrets", Datum(DatumRecord{{"patterns", Datum(DatumList{"password", "secret", "token", "key"})},
                                    {"github", "ghp_xyz"}})},
  });
  Datum r = redact(cfg, secret_patterns(cfg));
  const Datum& aws = *r.find("providers")->find("aws");
  CHECK(aws.find("region")->str() == "us-west-2");
  CHECK(aws.find("api_token")->str() == kRedacted);
  // A table or list under a secret key keeps its shape, each leaf redacted.
  CHECK(aws.find("credentials_key")->find("id")->str() == kRedacted);
  CHECK(r.find("db")->find("passwords")->list() == DatumList{kRedacted, kRedacted});
  CHECK(r.find("db")->find("port")->v == Datum(5432).v);
  // The pattern list is configuration, not a secret.
  CHECK(r.find("secrets")->find("patterns")->list().size() == 4);
  // Anything else kept in the secrets table is a secret, whatever its name.
  CHECK(r.find("secrets")->find("github")->str() == kRedacted);
}

TEST_CASE("a value fetched from below a secret key is redacted by its path", "[redact]") {
  Datum id("AKIA");
  CHECK(redact(id, kDefault, {"providers", "aws", "credentials_key", "id"}).str() == kRedacted);
  CHECK(redact(Datum("x"), kDefault, {"providers", "aws", "api_token"}).str() == kRedacted);
  CHECK(redact(Datum("us-west-2"), kDefault, {"providers", "aws", "region"}).str() == "us-west-2");
  Datum patterns(DatumList{"token"});
  CHECK(redact(patterns, kDefault, {"secrets", "patterns"}).list().size() == 1);
}

TEST_CASE("configured patterns replace the defaults", "[redact]") {
  Datum cfg(DatumRecord{{"secrets", Datum(DatumRecord{{"patterns", Datum(DatumList{"pin"})}})},
                        {"card_pin", "1234"},
                        {"api_token", "visible"}});
  Datum r = redact(cfg, secret_patterns(cfg));
  CHECK(r.find("card_pin")->str() == kRedacted);
  CHECK(r.find("api_token")->str() == "visible");
}

TEST_CASE("a configuration splits into what may be shown and its secrets, and joins back", "[redact]") {
  Datum cfg(DatumRecord{
      {"providers", Datum(DatumRecord{{"aws", Datum(DatumRecord{{"region", "us-west-2"}, {"api_token", "t0ps3cret"}})}})},
      {"hosts", Datum(DatumList{Datum(DatumRecord{{"name", "a"}, {"password", "pw-a"}}),
                                Datum(DatumRecord{{"name", "b"}, {"ssh_key", Datum(DatumRecord{{"id", "k"}})}})})},
      {"secrets", Datum(DatumRecord{{"patterns", Datum(DatumList{"password", "token", "key"})}, {"github", "ghp"}})},
      {"workflow", Datum(DatumRecord{{"parallel", 2}})},
  });
  const auto patterns = secret_patterns(cfg);
  SecretSplit split = split_secrets(cfg, patterns);
  // What is shown is redact() exactly, and holds no secret value.
  CHECK(encode_json(split.shown) == encode_json(redact(cfg, patterns)));
  for (const char* secret : {"t0ps3cret", "pw-a", "ghp", "\"k\""})
    CHECK(encode_json(split.shown).find(secret) == std::string::npos);
  REQUIRE(split.hidden.list().size() == 4);  // leaves: the token, pw-a, ssh_key.id, github
  CHECK(encode_json(join_secrets(split.shown, split.hidden)) == encode_json(cfg));
  // Nothing secret: nothing hidden.
  CHECK(split_secrets(Datum(DatumRecord{{"a", 1}}), patterns).hidden.list().empty());
}

TEST_CASE("secrets that do not fit the shown configuration are refused", "[redact]") {
  Datum shown(DatumRecord{{"db", Datum(DatumRecord{{"password", kRedacted}, {"port", 1}})}});
  auto entry = [](DatumList at) { return Datum(DatumRecord{{"at", Datum(std::move(at))}, {"value", "x"}}); };
  CHECK(join_secrets(shown, Datum(DatumList{entry({"db", "password"})})).find("db")->find("password")->str() == "x");
  for (const DatumList& at : {DatumList{"db", "user"}, DatumList{"db", "port"}, DatumList{"db", int64_t{0}}}) {
    try {
      join_secrets(shown, Datum(DatumList{entry(at)}));
      FAIL("accepted");
    } catch (const ResourceError& e) {
      CHECK(e.code() == "provisioning::state::corrupt_secrets");
    }
  }
}

TEST_CASE("redact_values hides every occurrence of secret values in text", "[redact]") {
  CHECK(prov::redact_values("token=s3cr3t-value and again s3cr3t-value", {"s3cr3t-value"}) ==
        "token=<redacted> and again <redacted>");
  CHECK(prov::redact_values("a b c", {"b"}) == "a b c");  // too short to hide
  CHECK(prov::redact_values("hunter22hunter22", {"hunter22"}) == "<redacted><redacted>");
}
