# Quick start: `make demo` (set up, build, run the example workspace through real nu) and
# `make test` (set up, build, run every test suite, then again under the sanitizers, and the
# fuzzers for a bounded time: what CI runs). `make check` is the first part alone. See README.md.
BUILD   ?= build
JOBS    ?= $(shell nproc)
NU      ?= $(CURDIR)/node_modules/nushell/bin/nu
PLUGIN  := $(CURDIR)/$(BUILD)/bin/nu_plugin_provisioning
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROV_WERROR=ON

.PHONY: all setup build demo check test test-asan test-tsan fuzz docs bench clean
all: build

setup:
	@tools/setup.sh

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@cd examples && "$(NU)" -n --plugins '[$(PLUGIN)]' demo.nu

# Every suite once, in the default build (ctest -L <label> runs a category: docs/RELIABILITY.md).
check: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test: check
	@$(MAKE) --no-print-directory test-tsan fuzz test-asan

# Sanitizers (CMakePresets.json). test-asan: every unit test and the e2e suites (newest Nu, both
# encodings) under AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer, in build-asan.
# test-tsan: the tests that run threads (label tsan) under ThreadSanitizer, in build-tsan.
# Reports of any process, grandchildren included, fail the test `sanitizers: no reports`.
test-asan: setup
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j$(JOBS)
	@ctest --preset asan -j$(JOBS)

test-tsan: setup
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j$(JOBS) --target core_tests plugin_tests
	@ctest --preset tsan -j$(JOBS)

# libFuzzer targets (clang-14, ASan, UBSan) in build-fuzz, each run FUZZ_SECONDS (default 30)
# from its seed corpus in tests/fuzz/; fails on any crash. See tests/fuzz/run.sh.
fuzz: setup
	@JOBS=$(JOBS) tests/fuzz/run.sh

# docs/COMMANDS.md, the command reference, from the commands' signatures (the test
# `e2e: commands_doc_once` fails when it is stale), and docs/API.md from the service's routes
# (the test `service: API.md is current`).
docs: build
	@"$(NU)" -n --plugins '[$(PLUGIN)]' tools/commands_doc.nu docs/COMMANDS.md
	@"$(PLUGIN)" serve --api-markdown > docs/API.md
	@cd examples && "$(NU)" -n --plugins '[$(PLUGIN)]' -c 'prov workflow graph --format svg workflows/deploy.toml | save -f ../docs/deploy-workflow.svg'

bench: build
	@bench/run.sh "$(CURDIR)/$(BUILD)" "$(NU)"

clean:
	rm -rf $(BUILD) build-asan build-tsan
