#!/usr/bin/env bash
# Fuzzes the input readers with libFuzzer: builds each target (the modules it needs compiled with
# AddressSanitizer and coverage), runs each for SECONDS (default 30) from its seed corpus under
# Tests/Fuzz/corpus/, and ends with `fuzz: N targets, E executions, C crashes`. New inputs go to a
# scratch corpus, crashes to .build/fuzz/crashes/<target>/; exits non-zero when any target crashed.
# Crash inputs worth keeping are copied into the target's corpus folder, where every run replays them.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-30}
B=.build/fuzz
D=.build/debug
mkdir -p "$B"
# Our modules are compiled here with coverage; the packages they use (Yams, swift-collections'
# Heap, swift-crypto) are linked as SwiftPM built them for the tests, oneDNN as Debian ships it.
[ -d "$D/Yams.build" ] && [ -d "$D/HeapModule.build" ] || swift build --target Crowd >/dev/null || exit 1
[ -f "$D/Modules/Crypto.swiftmodule" ] || swift build --target Crypto >/dev/null || exit 1
PACKAGES=("$D"/Yams.build/*.o "$D"/CYaml.build/src/*.o "$D"/HeapModule.build/*.o "$D"/InternalCollectionsUtilities.build/*.o)
CRYPTO_SRC=.build/checkouts/swift-crypto/Sources
CRYPTO=("$D"/Crypto.build/*.o "$D"/CryptoBoringWrapper.build/*.o "$D"/CCryptoBoringSSLShims.build/*.o
        $(find "$D/CXKCP.build" "$D/CXKCPShims.build" -name "*.o" | sort)
        $(find "$D/CCryptoBoringSSL.build" -name '*.o' | sort)
        -Xcc -I -Xcc "$CRYPTO_SRC/CCryptoBoringSSL/include" -Xcc -I -Xcc "$CRYPTO_SRC/CCryptoBoringSSLShims/include")
FLAGS=(-O -parse-as-library -sanitize=fuzzer,address -I "$B" -I "$D/Modules" -I Sources/CGSL -I Sources/CPNG -I Sources/CDNNL -I .build/checkouts/Yams/Sources/CYaml/include)
module() {  # name, sources...
  local name=$1; shift
  swiftc "${FLAGS[@]}" -emit-library -static -emit-module -module-name "$name" -emit-module-path "$B/$name.swiftmodule" \
    -o "$B/lib$name.a" "$@" 2>"$B/$name.log" || { cat "$B/$name.log"; exit 1; }
}
module Randomness Sources/Randomness/*.swift
module Imaging Sources/Imaging/*.swift
module Consensus $(find Sources/Consensus -name '*.swift' | sort) -enable-testing
module Crowd Sources/Crowd/*.swift
module Phantoms Sources/Phantoms/*.swift
module Reports Sources/Reports/*.swift
module Detection Sources/Detection/*.swift
module Lab Sources/Lab/*.swift
target() {  # name, source, libraries...
  local name=$1 source=$2; shift 2
  swiftc "${FLAGS[@]}" "Tests/Fuzz/$source" "$@" \
    -o "$B/fuzz-$name" 2>"$B/fuzz-$name.log" || { cat "$B/fuzz-$name.log"; exit 1; }
}
target export ExportReaderTarget.swift "$B/libConsensus.a" "$B/libImaging.a" "$B/libRandomness.a" "${PACKAGES[@]}" -lgsl -lgslcblas -lpng16
target decimal DecimalNumberTarget.swift "$B/libConsensus.a" "$B/libImaging.a" "$B/libRandomness.a" "${PACKAGES[@]}" -lgsl -lgslcblas -lpng16
target truth TruthCSVTarget.swift "$B/libConsensus.a" "$B/libImaging.a" "$B/libRandomness.a" "${PACKAGES[@]}" -lgsl -lgslcblas -lpng16
target png PNGTarget.swift "$B/libImaging.a" "${PACKAGES[@]}" -lpng16
target population PopulationYAMLTarget.swift "$B/libCrowd.a" "$B/libConsensus.a" "$B/libImaging.a" "$B/libRandomness.a" "${PACKAGES[@]}" \
  -lgsl -lgslcblas -lpng16
target scenario ScenarioYAMLTarget.swift "$B/libLab.a" "$B/libDetection.a" "$B/libReports.a" "$B/libPhantoms.a" "$B/libCrowd.a" "$B/libConsensus.a" \
  "$B/libImaging.a" "$B/libRandomness.a" "${PACKAGES[@]}" "${CRYPTO[@]}" -lgsl -lgslcblas -lpng16 -ldnnl
# The marketplace's request check, compiled with the target (SignatureV4.swift needs only swift-crypto).
target sigv4 SignatureV4Target.swift Sources/Turk/SignatureV4.swift "${CRYPTO[@]}"
targets=0 executions=0 crashes=0
for t in export decimal truth png population scenario sigv4; do
  scratch="$B/corpus/$t"; found="$B/crashes/$t"
  rm -rf "$found"; mkdir -p "$scratch" "$found"
  ./"$B/fuzz-$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$found/" -print_final_stats=1 "$scratch" "Tests/Fuzz/corpus/$t" >"$B/run-$t.log" 2>&1
  status=$?
  n=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$B/run-$t.log" | grep -oE "[0-9]+$" || echo 0)
  c=$(find "$found" -type f | wc -l)
  [ "$status" -ne 0 ] && [ "$c" -eq 0 ] && c=1
  echo "$t: ${n:-0} executions, $c crashes"
  [ "$c" -gt 0 ] && grep -E "ERROR|Fatal error|Precondition failed|SUMMARY" "$B/run-$t.log" | head -5
  targets=$((targets + 1)); executions=$((executions + ${n:-0})); crashes=$((crashes + c))
done
echo "fuzz: $targets targets, $executions executions, $crashes crashes"
[ "$crashes" -eq 0 ]
