#!/usr/bin/env bash
# make bench: every tests/bench/bench_*.sh in turn (or the ones named:
# tests/bench/run.sh progrun daemon).  Benchmarks print ratios measured side
# by side, interleaved, in the same run (medians of REPS reps, default 5);
# they never pass or fail on speed.  Each bench appends its figures to
# build/bench/NAME.json (tests/bench/lib.sh); at the end all figures are
# merged into build/bench/results.json and a markdown table,
# build/bench/results.md, ready to paste into the README.
# Whole run: about 30 minutes on 2 CPUs.
set -u
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-$PWD/build}
export BUILD_DIR
export PKTSCOPE=${PKTSCOPE:-$BUILD_DIR/pktscope}
BENCH_NAME=run; . tests/bench/lib.sh
rm -f "$BENCH_JSON"
echo "machine: $(bench_machine)"
echo "reps: $BENCH_REPS (REPS=N to change)"
echo

if [ $# -gt 0 ]; then
	list=()
	for n in "$@"; do list+=("tests/bench/bench_${n#bench_}.sh"); done
else
	list=(tests/bench/bench_*.sh)
fi
for b in "${list[@]}"; do
	[ -e "$b" ] || { echo "== $b: no such bench"; continue; }
	echo "== $(basename "$b" .sh)"
	# A bench that hangs (a peer tool that ignores its signal) is cut off.
	timeout --kill-after=10 "${BENCH_TIMEOUT:-900}" bash "$b" || echo "   ($(basename "$b") exited $?)"
	echo
done

# Merge every figure line of build/bench/*.json ($BENCH_OUT: lib.sh) (also
# the ones of benches not run this time, so a partial re-run refreshes only
# its own rows).
/usr/bin/python3 - "$BENCH_OUT" <<'EOF'
import glob, json, os, sys
d = sys.argv[1]
figs = []
for f in sorted(glob.glob(os.path.join(d, "*.json"))):
    if os.path.basename(f) == "results.json":
        continue
    for line in open(f):
        line = line.strip()
        if not line:
            continue
        try:
            figs.append(json.loads(line))
        except ValueError:
            print("bad figure line in %s: %s" % (f, line[:80]), file=sys.stderr)
with open(os.path.join(d, "results.json"), "w") as out:
    json.dump(figs, out, indent=1)
    out.write("\n")

def num(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    return "%.3g" % x

def side(s, unit):
    return "%s: %s %s (%s..%s)" % (s["label"], num(s["median"]), unit,
                                   num(s["min"]), num(s["max"]))

rows = ["| bench | figure | subject | baseline | ratio (median; per-rep min..max) | target |",
        "|---|---|---|---|---|---|"]
for f in figs:
    r = num(f.get("ratio"))
    if f.get("ratio_min") is not None:
        r += " (%s..%s)" % (num(f["ratio_min"]), num(f["ratio_max"]))
    rows.append("| %s | %s: %s | %s | %s | %s | %s |" % (
        f.get("bench", ""), f["id"], f["what"], side(f["subject"], f["unit"]),
        side(f["base"], f["unit"]), r, f.get("target") or ""))
m = figs[0]["machine"] if figs else {}
hdr = "Measured on %s, %s CPUs, kernel %s (load %s), medians of %s reps.\n\n" % (
    m.get("model", "?"), m.get("cpus", "?"), m.get("kernel", "?"), m.get("load", "?"),
    os.environ.get("REPS", "5"))
text = hdr + "\n".join(rows) + "\n"
open(os.path.join(d, "results.md"), "w").write(text)
print(text)
EOF
echo "figures: $BENCH_OUT/results.json, table: $BENCH_OUT/results.md"
