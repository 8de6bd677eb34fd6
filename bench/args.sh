# Sourced by the bench scripts (after they set `root`): the two positional arguments every one
# takes, BUILD_DIR then NU, and their defaults; the median, the clock, and the writing of a
# figures section into a markdown file.

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

# median: the median of the numbers on stdin, one a line.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# now_us: the wall clock in microseconds ($EPOCHREALTIME: no process to fork).
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

# bench_markdown_section TAG FILE SECTION: puts SECTION (which starts with <!-- TAG:begin --> and
# ends with <!-- TAG:end -->) in place of the text between those markers in FILE, or appends it
# to FILE when the markers are not both there.
bench_markdown_section() {
  local tag=$1 file=$2 section=$3 scratch
  if [[ -f $file ]] && grep -q "<!-- $tag:begin -->" "$file" && grep -q "<!-- $tag:end -->" "$file"; then
    scratch=$(mktemp -d)
    printf '%s\n' "$section" >"$scratch/section"
    awk -v f="$scratch/section" -v b="<!-- $tag:begin -->" -v e="<!-- $tag:end -->" '
      $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip' "$file" >"$scratch/doc"
    cat "$scratch/doc" >"$file"
    rm -rf "$scratch"
  else
    printf '\n%s\n' "$section" >>"$file"
  fi
}
