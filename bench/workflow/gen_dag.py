#!/usr/bin/env python3
"""One random DAG, written out for every tool that bench/workflow_bench.sh compares.

Usage: gen_dag.py N OUT_DIR [--max-deps K] [--seed S] [--formats json,ninja,make,tsort]
                  [--check]

Operation i (o0 .. o{N-1}) depends on 0..K distinct earlier operations, chosen uniformly
(K = 3 by default, so 1.5 dependencies per operation on average). The same seed gives the
same DAG in every format:

  json   OUT_DIR/wf.json: a prov workflow; each operation runs the argv ["true"]
  ninja  OUT_DIR/build.ninja: one edge per operation, `build oN: run | deps`, whose command
         is `true`; it never creates oN, so every edge is dirty on every run and ninja runs
         all N commands (through /bin/sh -c, as ninja always does)
  make   OUT_DIR/Makefile: one target per operation, `oN: deps` with the recipe `true`
         and the targets marked .PHONY, so make runs all N recipes (a simple recipe is
         exec'd directly by GNU make, no shell)
  tsort  OUT_DIR/edges.txt: the edges as `dep op` pairs for coreutils tsort; an operation
         without dependencies is written as `op op` so that it is still a node

With --check, every command instead checks that the outputs of its dependencies exist and
then creates its own (`test -e dep && ... && touch oN`, through sh -c in every tool), so a
run proves that all N commands ran and in an order that respects the edges.
"""
import argparse
import json
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--max-deps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--formats", default="json,ninja,make,tsort")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--parallel", type=int, default=8)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    deps = []
    for i in range(a.n):
        k = min(rng.randint(0, a.max_deps), i)
        deps.append(sorted(rng.sample(range(i), k)) if k else [])
    edges = sum(len(d) for d in deps)

    def check_cmd(i):
        tests = "".join(f"test -e o{d} && " for d in deps[i])
        return f"{tests}touch o{i}"

    os.makedirs(a.out, exist_ok=True)
    formats = a.formats.split(",")
    if "json" in formats:
        with open(os.path.join(a.out, "wf.json"), "w") as f:
            f.write('{"name":"bench-dag-%d","settings":{"parallel":%d,"retry":{"attempts":1}},'
                    '"operations":[\n' % (a.n, a.parallel))
            for i in range(a.n):
                run = ["sh", "-c", check_cmd(i)] if a.check else ["true"]
                op = {"id": f"o{i}", "kind": "command", "run": run}
                if deps[i]:
                    op["depends_on"] = [f"o{d}" for d in deps[i]]
                f.write(("," if i else "") + json.dumps(op, separators=(",", ":")) + "\n")
            f.write("]}\n")
    if "ninja" in formats:
        with open(os.path.join(a.out, "build.ninja"), "w") as f:
            f.write("rule run\n  command = $cmd\n\n")
            for i in range(a.n):
                implicit = (" | " + " ".join(f"o{d}" for d in deps[i])) if deps[i] else ""
                f.write(f"build o{i}: run{implicit}\n  cmd = {check_cmd(i) if a.check else 'true'}\n")
    if "make" in formats:
        with open(os.path.join(a.out, "Makefile"), "w") as f:
            names = [f"o{i}" for i in range(a.n)]
            f.write("all: " + " ".join(names) + "\n")
            if not a.check:  # with --check the files exist afterwards; a fresh dir is used
                f.write(".PHONY: all " + " ".join(names) + "\n")
            for i in range(a.n):
                f.write(f"o{i}:" + "".join(f" o{d}" for d in deps[i]) + "\n")
                f.write("\t" + (check_cmd(i) if a.check else "true") + "\n")
    if "tsort" in formats:
        with open(os.path.join(a.out, "edges.txt"), "w") as f:
            for i in range(a.n):
                if deps[i]:
                    for d in deps[i]:
                        f.write(f"o{d} o{i}\n")
                else:
                    f.write(f"o{i} o{i}\n")
    print(f"{a.n} {edges}")


if __name__ == "__main__":
    main()
