#include "plugin/commands/datum_value.hpp"

#include "plugin/engine/labeled_error_exception.hpp"

namespace prov::plugin {

Value to_value(const Datum& d, Span span) {
  struct Visitor {
    Span s;
    Value operator()(std::monostate) const { return Value::nothing(s); }
    Value operator()(bool b) const { return Value::boolean(b, s); }
    Value operator()(int64_t i) const { return Value::integer(i, s); }
    Value operator()(double x) const { return Value::floating(x, s); }
    Value operator()(const std::string& str) const { return Value::string(str, s); }
    Value operator()(const DateTime& t) const { return Value::date(t.rfc3339, s); }
    Value operator()(const Duration& du) const { return Value::duration(du.nanos, s); }
    Value operator()(const DatumList& l) const {
      std::vector<Value> out;
      out.reserve(l.size());
      for (const auto& e : l) out.push_back(to_value(e, s));
      return Value::list(std::move(out), s);
    }
    Value operator()(const DatumRecord& r) const {
      Record out;
      out.reserve(r.size());
      for (const auto& [k, e] : r) out.emplace_back(k, to_value(e, s));
      return Value::record(std::move(out), s);
    }
  };
  return std::visit(Visitor{span}, d.v);
}

Datum to_datum(const Value& v, const std::string& what) {
  using T = Value::Type;
  switch (v.type) {
    case T::Nothing: return Datum();
    case T::Bool: return Datum(v.as_bool());
    case T::Int:
    case T::Filesize: return Datum(v.as_int());
    case T::Float: return Datum(v.as_float());
    case T::String:
    case T::Glob: return Datum(v.as_string());
    case T::Date: return Datum(DateTime{v.as_string()});
    case T::Duration: return Datum(Duration{v.as_int()});
    case T::List: {
      DatumList l;
      l.reserve(v.as_list().size());
      for (size_t i = 0; i < v.as_list().size(); ++i)
        l.push_back(to_datum(v.as_list()[i], what + "." + std::to_string(i)));
      return Datum(std::move(l));
    }
    case T::Record: {
      DatumRecord r;
      r.reserve(v.as_record().size());
      for (const auto& [k, e] : v.as_record()) r.emplace_back(k, to_datum(e, what.empty() ? k : what + "." + k));
      return Datum(std::move(r));
    }
    case T::Error: throw LabeledErrorException(v.as_error());
    default: break;
  }
  throw labeled("Cannot use a " + v.type_name() + " value in " + (what.empty() ? "this input" : what),
                "a " + v.type_name() + " is not data the provisioning core can hold", v.span,
                "provisioning::input::unsupported_type",
                "use plain data: strings, numbers, booleans, dates, durations, lists and records");
}

}  // namespace prov::plugin
