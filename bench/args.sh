# Sourced by the bench scripts (after they set `root`): the two positional arguments every one
# takes, BUILD_DIR then NU, and their defaults.

# bench_positional NAME ARG: ARG is BUILD_DIR, else NU; a third positional argument is an error.
bench_positional() {
  if [[ -z $build ]]; then build=$2
  elif [[ -z $nu ]]; then nu=$2
  else echo "$1: too many arguments: $2" >&2; exit 2
  fi
}

# bench_defaults: BUILD_DIR defaults to $root/build, NU to the pinned Nushell.
bench_defaults() {
  build=${build:-$root/build}
  if [[ -z $nu ]]; then
    nu=$root/node_modules/@nushell/linux-x64/bin/nu
    [[ -x $nu ]] || nu=$root/node_modules/nushell/bin/nu
  fi
}
