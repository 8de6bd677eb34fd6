#include "core/ops/nu_syntax.hpp"

#include "core/support/datum_json.hpp"
#include "core/support/error.hpp"
#include "core/support/process.hpp"
#include "core/support/temp_dir.hpp"

namespace prov {

namespace {

/// Reads a JSON list of {code, cwd}; prints a JSON list: "" where the parser takes the code,
/// else its labels' texts (0.115 gives them in `details`, older releases in `json`).
constexpr const char* kCheckScript = R"nu(
def main [codes: path] {
  open --raw $codes | from json | each {|c|
    cd (if ($c.cwd | path exists) { $c.cwd } else { $env.PWD })
    try {
      $c.code | nu-check --debug | ignore
      ""
    } catch {|e|
      let labels = ($e.details?.labels? | default (try { $e.json | from json | get labels } catch { [] }))
      let texts = ($labels | each {|l| $l.text? | default "" | str replace --regex '^Found : ' '' } | where {|t| $t != "" })
      if ($texts | is-empty) { $e.msg } else { $texts | str join "; " }
    }
  } | to json --raw
}
)nu";

}  // namespace

std::vector<std::string> nu_parse_errors(const std::string& nu_path, const std::vector<NuCode>& codes) {
  if (codes.empty()) return {};
  DatumList list;
  list.reserve(codes.size());
  for (const NuCode& c : codes) list.emplace_back(DatumRecord{{"code", Datum(c.code)}, {"cwd", Datum(c.cwd)}});
  TempDir dir("prov-nu-check");
  const std::string script = dir.write("check.nu", kCheckScript);
  const std::string input = dir.write("codes.json", encode_json(Datum(std::move(list))));
  const ProcessOutput out = run_captured({nu_path.empty() ? std::string("nu") : nu_path, "-n", script, input});
  auto unexpected = [&](const std::string& why) {
    std::string err = out.err.substr(0, 400);
    return ResourceError("provisioning::operation::nu_check",
                         "cannot check the workflow's Nu code with " + nu_path + ": " + why +
                             (err.empty() ? std::string() : ": " + err),
                         "`nu-check` of Nu 0.107 or newer checks it; set workflow.nu_path to such a nu");
  };
  if (out.exit_code != 0) throw unexpected("it exited with " + std::to_string(out.exit_code));
  Datum answer;
  try {
    answer = decode_json(out.out);
  } catch (const std::exception&) {
    throw unexpected("its answer is not JSON");
  }
  if (!answer.is_list() || answer.list().size() != codes.size()) throw unexpected("it did not answer every code");
  std::vector<std::string> problems;
  problems.reserve(codes.size());
  for (const Datum& d : answer.list()) {
    if (!d.is_string()) throw unexpected("an answer is not a string");
    problems.push_back(d.str());
  }
  return problems;
}

}  // namespace prov
