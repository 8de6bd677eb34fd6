#pragma once
/// Turns a core error into the labeled error a Nu user sees: its label on the argument, flag
/// or input the core blamed (the command's head otherwise), its stable code and help line.

#include "core/support/error.hpp"
#include "plugin/protocol/messages.hpp"
#include "plugin/protocol/signature.hpp"

namespace prov::plugin {


LabeledError to_labeled_error(const prov::Error& e, const Signature& sig, const EvaluatedCall& call, Span input_span);

}  // namespace prov::plugin
