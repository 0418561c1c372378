# Shared helpers for tests/bench/bench_*.sh.  Source it after setting
# BENCH_NAME:
#
#   BENCH_NAME=foo; . tests/bench/lib.sh
#
# It sets BENCH_JSON=build/bench/$BENCH_NAME.json (truncated here; one JSON
# object per line, one line per figure) and BENCH_REPS=${REPS:-5}.
#
#   bench_stats v1 v2 ...      -> "median min max"
#   bench_figure ID WHAT UNIT SUBJ_LABEL "s1 s2 .." BASE_LABEL "b1 b2 .." \
#                [TARGET] [BETTER]
#       prints one human line and appends one JSON line to $BENCH_JSON.
#       ratio = median(subject) / median(base); when both lists have the
#       same length the per-rep ratios s_i/b_i are reported as well (their
#       min..max), since reps are taken side by side, interleaved.
#       With BENCH_RATIO=paired (set by the bench), ratio is the median of
#       those per-rep ratios instead (the bench pairs each subject value
#       with the base value measured next to it in time).
#   bench_machine              -> one line: CPU model, cpus, kernel, loadavg
#
# Benchmarks never pass or fail on speed: they print what was measured.

: "${BENCH_NAME:?set BENCH_NAME before sourcing tests/bench/lib.sh}"
BENCH_ROOT=${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/build/bench}
mkdir -p "$BENCH_OUT"
BENCH_JSON=$BENCH_OUT/$BENCH_NAME.json
: >"$BENCH_JSON"
BENCH_REPS=${REPS:-5}

# bench_stats V...: median, min and max of numeric values (median of an
# even count is the mean of the two middle values).
bench_stats() {
	printf '%s\n' "$@" | grep -E '^-?[0-9.eE+-]+$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan nan nan"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]
			else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.6g %.6g %.6g\n", m, v[1], v[NR]
		}'
}

bench_machine() {
	local model cpus kern load
	model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
	[ -n "$model" ] || model=$(uname -m)
	cpus=$(nproc)
	kern=$(uname -r)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "$model, $cpus CPUs, kernel $kern, load $load"
}

# _bench_jstr S: S as a JSON string.
_bench_jstr() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/ }
	s=${s//$'\n'/ }
	printf '"%s"' "$s"
}

# _bench_jnums "v1 v2 ..": a JSON array of the numeric values.
_bench_jnums() {
	local out="" v
	for v in $1; do
		[[ $v =~ ^-?[0-9.eE+-]+$ ]] || continue
		out+="${out:+,}$v"
	done
	printf '[%s]' "$out"
}

# _bench_fmt X: a short human number.
_bench_fmt() { awk -v x="$1" 'BEGIN { if (x == "nan") print x; else printf "%.4g", x }'; }

bench_figure() {
	local id=$1 what=$2 unit=$3 sl=$4 sv=$5 bl=$6 bv=$7 target=${8:-} better=${9:-lower}
	local sm smin smax bm bmin bmax ratio rmed rmin="" rmax="" rs=()
	read -r sm smin smax < <(bench_stats $sv)
	read -r bm bmin bmax < <(bench_stats $bv)
	ratio=$(awk -v a="$sm" -v b="$bm" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.4g", a / b }')
	local -a sa=($sv) ba=($bv)
	if [ ${#sa[@]} -gt 0 ] && [ ${#sa[@]} = ${#ba[@]} ]; then
		local i
		for i in "${!sa[@]}"; do
			rs+=("$(awk -v a="${sa[$i]}" -v b="${ba[$i]}" 'BEGIN { if (b == 0) print "nan"; else printf "%.4g", a / b }')")
		done
		read -r rmed rmin rmax < <(bench_stats "${rs[@]}")
		[ "$rmin" = nan ] && rmin="" rmax=""
		[ "${BENCH_RATIO:-}" = paired ] && [ -n "$rmin" ] && ratio=$(_bench_fmt "$rmed")
	fi
	local line
	line=$(printf '%s: %s %s (%s..%s) %s vs %s %s (%s..%s) -> ratio %s' "$id" \
		"$sl" "$(_bench_fmt "$sm")" "$(_bench_fmt "$smin")" "$(_bench_fmt "$smax")" "$unit" \
		"$bl" "$(_bench_fmt "$bm")" "$(_bench_fmt "$bmin")" "$(_bench_fmt "$bmax")" "$ratio")
	[ -n "$rmin" ] && line+=" (per-rep $(_bench_fmt "$rmin")..$(_bench_fmt "$rmax"))"
	[ -n "$target" ] && line+=" (target $target)"
	echo "  $line"
	local m
	m=$(printf '{"host":%s,"cpus":%s,"kernel":%s,"model":%s,"load":%s}' \
		"$(_bench_jstr "$(hostname)")" "$(nproc)" "$(_bench_jstr "$(uname -r)")" \
		"$(_bench_jstr "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)")" \
		"$(_bench_jstr "$(cut -d' ' -f1-3 /proc/loadavg)")")
	jn() { [ "$1" = nan ] && echo null || echo "$1"; }
	printf '{"bench":%s,"id":%s,"what":%s,"unit":%s,"subject":{"label":%s,"values":%s,"median":%s,"min":%s,"max":%s},"base":{"label":%s,"values":%s,"median":%s,"min":%s,"max":%s},"ratio":%s,"ratio_min":%s,"ratio_max":%s,"target":%s,"better":%s,"machine":%s}\n' \
		"$(_bench_jstr "$BENCH_NAME")" "$(_bench_jstr "$id")" "$(_bench_jstr "$what")" "$(_bench_jstr "$unit")" \
		"$(_bench_jstr "$sl")" "$(_bench_jnums "$sv")" "$(jn "$sm")" "$(jn "$smin")" "$(jn "$smax")" \
		"$(_bench_jstr "$bl")" "$(_bench_jnums "$bv")" "$(jn "$bm")" "$(jn "$bmin")" "$(jn "$bmax")" \
		"$(jn "$ratio")" "${rmin:-null}" "${rmax:-null}" \
		"$(_bench_jstr "$target")" "$(_bench_jstr "$better")" "$m" >>"$BENCH_JSON"
}

# bench_wait_line FILE PATTERN [SECS]: seconds (float) until PATTERN shows
# up in FILE, polled every 2 ms; prints "nan" on timeout (default 30 s).
bench_wait_line() {
	local t0 end
	t0=$(date +%s%N)
	end=$((t0 + ${3:-30} * 1000000000))
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		[ "$(date +%s%N)" -gt "$end" ] && { echo nan; return 1; }
		sleep 0.002
	done
	awk -v a="$(date +%s%N)" -v b="$t0" 'BEGIN { printf "%.4f\n", (a - b) / 1e9 }'
}

# bench_stop PID: SIGTERM, SIGKILL after 5 s, reap.
bench_stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
