#pragma once
/// Helpers shared by the tests of process handling (not part of provcore's interface).

#include <sys/types.h>

#include <chrono>
#include <thread>

#include "core/support/proc_stat.hpp"

namespace prov::testing {

/// True once `pid` runs no more (gone, or a zombie nobody has reaped yet), waiting up to two
/// seconds for it: a killed orphan is reaped by init, not by us.
inline bool becomes_gone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    const auto st = read_proc_stat(pid);
    if (!st || st->state == 'Z' || st->state == 'X') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace prov::testing
