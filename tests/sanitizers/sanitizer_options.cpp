// Sanitizer defaults compiled into every instrumented executable (PROV_SANITIZE builds only).
// The plugin runs under nu, and its runners and supervisors are detached grandchildren, so a
// report on stderr would go unseen: every report goes to a file in PROV_SANITIZER_LOG_DIR, and
// the ctest `sanitizers: no reports` fails when any file is there. Options set in the
// environment (ASAN_OPTIONS=log_path=stderr, …) still override these.

#include <dlfcn.h>

#ifndef PROV_SANITIZER_LOG_DIR
#error "PROV_SANITIZER_LOG_DIR must name the folder for sanitizer reports"
#endif

extern "C" {

/// AddressSanitizer (and LeakSanitizer inside it): stop at the first error, check leaks at exit.
const char* __asan_default_options() {
    return "log_path=" PROV_SANITIZER_LOG_DIR "/asan:halt_on_error=1:detect_leaks=1"
           ":detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1";
}

/// LeakSanitizer: suppressions for leaks that are not ours (see lsan.supp).
const char* __lsan_default_options() {
    return "suppressions=" PROV_SANITIZER_SOURCE_DIR "/lsan.supp:print_suppressions=0";
}

/// UndefinedBehaviorSanitizer: stack traces, a report file like ASan's.
const char* __ubsan_default_options() {
    return "log_path=" PROV_SANITIZER_LOG_DIR "/ubsan:print_stacktrace=1:halt_on_error=1";
}

/// ThreadSanitizer: every race is reported (exit code 66 at the end), not only the first.
const char* __tsan_default_options() {
    return "log_path=" PROV_SANITIZER_LOG_DIR "/tsan:second_deadlock_stack=1:history_size=4";
}
}

namespace {

/// With AddressSanitizer, g++'s UndefinedBehaviorSanitizer runtime (libubsan, a library of its
/// own) ignores log_path from any options and writes to stderr: give it the path directly.
__attribute__((constructor)) void route_ubsan_reports() {
    void* ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!ubsan) return;
    using SetReportPath = void (*)(const char*);
    if (auto set = reinterpret_cast<SetReportPath>(dlsym(ubsan, "__sanitizer_set_report_path")))
        set(PROV_SANITIZER_LOG_DIR "/ubsan");
}

}  // namespace
