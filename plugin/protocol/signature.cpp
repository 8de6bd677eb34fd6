#include "plugin/protocol/signature.hpp"

namespace prov::plugin {

int Signature::positional_index(std::string_view n) const {
  int i = 0;
  for (const auto& p : required) {
    if (p.name == n) return i;
    ++i;
  }
  for (const auto& p : optional) {
    if (p.name == n) return i;
    ++i;
  }
  return -1;
}

namespace {
Wire positional_to_wire(const PositionalArg& p) {
  return Wire{{"name", p.name}, {"desc", p.desc}, {"shape", p.shape}, {"var_id", nullptr},
              {"default_value", nullptr}};
}

Wire flag_to_wire(const Flag& f) {
  return Wire{{"long", f.long_name},
              {"short", f.short_name ? Wire(std::string(1, *f.short_name)) : Wire(nullptr)},
              {"arg", f.arg ? *f.arg : Wire(nullptr)},
              {"required", f.required},
              {"desc", f.desc},
              {"var_id", nullptr},
              {"default_value", nullptr}};
}
}  // namespace

Wire to_wire(const Signature& s, const Dialect& d) {
  Wire req = Wire::array(), opt = Wire::array(), named = Wire::array(), io = Wire::array();
  for (const auto& p : s.required) req.push_back(positional_to_wire(p));
  for (const auto& p : s.optional) opt.push_back(positional_to_wire(p));
  named.push_back(flag_to_wire({"help", 'h', std::nullopt, "Display the help message for this command", false}));
  for (const auto& f : s.named) named.push_back(flag_to_wire(f));
  for (const auto& [in, out] : s.input_output_types) io.push_back(Wire::array({in, out}));
  Wire sig{{"name", s.name},
           {"description", s.description},
           {"extra_description", s.extra_description},
           {"search_terms", s.search_terms},
           {"required_positional", std::move(req)},
           {"optional_positional", std::move(opt)},
           {"rest_positional", s.rest ? positional_to_wire(*s.rest) : Wire(nullptr)},
           {"named", std::move(named)},
           {"input_output_types", std::move(io)},
           {"allow_variants_without_examples", true},
           {"is_filter", false},
           {"creates_scope", false},
           {"allows_unknown_args", false},
           {"category", Wire{{"Custom", s.category}}}};
  Wire examples = Wire::array();
  for (const auto& e : s.examples)
    examples.push_back({{"example", e.example},
                        {"description", e.description},
                        {"result", e.result ? to_wire(*e.result, d) : Wire(nullptr)}});
  return Wire{{"sig", std::move(sig)}, {"examples", std::move(examples)}};
}

}  // namespace prov::plugin
