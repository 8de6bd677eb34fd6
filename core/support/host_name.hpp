#pragma once
/// This host's name, as the stores and agents name hosts to each other.
#include <string>

namespace prov {

/// gethostname(), or "localhost" when it has none.
std::string this_host_name();

}  // namespace prov
