#!/usr/bin/env bash
# `crowdlab sweep --slurm` under a real Slurm: a single-node cluster on localhost started here
# (munged, slurmctld, slurmd run directly: no systemd, no cgroups), a small sweep submitted as a job
# array with a dependent merge, the merged CSV compared byte for byte with the same sweep run
# without Slurm; then a second sweep with one task cancelled on purpose, `crowdlab merge` refusing
# the partial set and `crowdlab sweep --resume` finishing it. Every daemon started is stopped by
# pid. Needs only loopback. Usage: Tests/External/slurm_sweep.sh PATH/TO/crowdlab
# Ends with unittest's lines ("Ran N tests", "OK" or "FAILED (failures=K)") for Tests/run-all.sh.
set -uo pipefail
crowdlab=$(realpath "${1:?usage: slurm_sweep.sh PATH/TO/crowdlab}")
cd "$(dirname "$0")/../.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
ran=0; failures=0
check() {  # check NAME CONDITION-EXIT-STATUS
  ran=$((ran + 1))
  if [ "$2" -eq 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; failures=$((failures + 1)); fi
}
finish() { echo "Ran $ran tests"; if [ "$failures" -eq 0 ]; then echo OK; else echo "FAILED (failures=$failures)"; fi; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; } \
    || { check "install slurm-wlm and munge" 1; finish; exit 1; }
fi

root=$(mktemp -d /tmp/crowdlab-slurm.XXXXXX)
chmod 755 "$root"
mkdir -p "$root"/{munge,spool,state,log,run}
chmod 700 "$root/munge"
user=$(id -un)
cpus=$(nproc)
memory=$(slurmd -C 2>/dev/null | grep -oE "RealMemory=[0-9]+" | cut -d= -f2)
memory=${memory:-1000}
# Ports above the defaults, so a real Slurm on this machine is left alone.
cat > "$root/slurm.conf" <<EOF
ClusterName=crowdlab-test
SlurmctldHost=localhost
SlurmctldPort=26817
SlurmdPort=26818
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$root/munge/munge.socket
MpiDefault=none
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$root/log/jobcomp.txt
SlurmctldPidFile=$root/run/slurmctld.pid
SlurmdPidFile=$root/run/slurmd.pid
SlurmdSpoolDir=$root/spool
StateSaveLocation=$root/state
SlurmctldLogFile=$root/log/slurmctld.log
SlurmdLogFile=$root/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$root/slurm.conf"

stop() {
  for f in "$root/run/slurmd.pid" "$root/run/slurmctld.pid" "$root/munge/munged.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  for f in "$root/run/slurmd.pid" "$root/run/slurmctld.pid" "$root/munge/munged.pid"; do
    for _ in $(seq 50); do [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || break; sleep 0.1; done
    [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
  done
}
trap 'stop; rm -rf "$root"' EXIT

dd if=/dev/urandom of="$root/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$root/munge/munge.key"
munged --force --socket="$root/munge/munge.socket" --key-file="$root/munge/munge.key" \
  --pid-file="$root/munge/munged.pid" --log-file="$root/munge/munged.log" --seed-file="$root/munge/munged.seed" \
  && slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF" -N localhost
check "start munged, slurmctld and slurmd" $?

idle=1
for _ in $(seq 60); do
  [ "$(sinfo --noheader --nodes=localhost --format=%T 2>/dev/null)" = "idle" ] && { idle=0; break; }
  sleep 1
done
check "the node is idle" $idle
if [ "$idle" -ne 0 ]; then tail -5 "$root/log/slurmctld.log" "$root/log/slurmd.log"; finish; exit 1; fi

# Waits until none of the given jobs is queued or running (at most 5 minutes).
wait_jobs() {
  for _ in $(seq 300); do
    [ -z "$(squeue --noheader --array --jobs "$1" 2>/dev/null)" ] && return 0
    sleep 1
  done
  return 1
}
job() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['submissions'][-1][sys.argv[2]])" "$1/slurm/sweep.json" "$2"; }
accounting() {  # sacct needs slurmdbd; this cluster records completions with jobcomp/filetxt instead
  sacct -j "$1" --format=JobID,JobName,State,ExitCode,Elapsed 2>/dev/null && return
  python3 - "$1" "$root/log/jobcomp.txt" <<'PY'
import sys, datetime
job, path = sys.argv[1], sys.argv[2]
print(f"{'JobID':<12} {'JobName':<16} {'State':<12} {'ExitCode':<8} Elapsed")
rows = []
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    if f.get("ArrayJobId") != job and f.get("JobId") != job: continue
    task = f.get("ArrayTaskId", "")
    t = lambda k: datetime.datetime.fromisoformat(f[k]) if f.get(k, "Unknown") not in ("Unknown", "None") else None
    start, end = t("StartTime"), t("EndTime")
    elapsed = str(end - start) if start and end and end >= start else "0:00:00"
    rows.append((int(task) if task.isdigit() else 0, f"{f.get('ArrayJobId') or f['JobId']}_{task}" if task else f["JobId"], f.get("Name", ""), f.get("JobState", ""), f.get("ExitCode", ""), elapsed))
for r in sorted(rows): print(f"{r[1]:<12} {r[2]:<16} {r[3]:<12} {r[4]:<8} {r[5]}")
PY
}

work=$root/work
grid=(Scenarios/spots-quickstart.yaml --vary job.pay_usd=0.02,0.05 --vary job.replicates=3,5,10 --seeds 4)
"$crowdlab" sweep "${grid[@]}" --out "$work/local" >/dev/null
check "the sweep without Slurm" $?

# 1. The whole sweep as arrays of 1, 4 and 7 tasks, each with a dependent merge.
jobs=""; submitted=0
for n in 1 4 7; do
  "$crowdlab" sweep "${grid[@]}" --slurm --tasks $n --out "$work/slurm-$n" > "$root/submit.txt"
  submitted=$((submitted + $?)); head -1 "$root/submit.txt"
  jobs="$jobs,$(job "$work/slurm-$n" arrayJob),$(job "$work/slurm-$n" mergeJob)"
done
wait_jobs "${jobs#,}"; finished=$?
check "crowdlab sweep --slurm submits arrays and merges that finish" $((submitted + finished))
same=0
for n in 1 4 7; do
  array=$(job "$work/slurm-$n" arrayJob)
  echo "$n task(s): array job $array, merge job $(job "$work/slurm-$n" mergeJob):"
  accounting "$array"
  if cmp -s "$work/local/runs.csv" "$work/slurm-$n/runs.csv" && cmp -s "$work/local/summary.csv" "$work/slurm-$n/summary.csv"; then
    echo "$n task(s): identical"
  else
    echo "$n task(s): differs"; same=1
  fi
done
check "the merged runs.csv and summary.csv are byte-identical to the sweep without Slurm with 1, 4 and 7 tasks" $same

# 2. One task cancelled on purpose (the node drained so that no task starts before), then --resume.
scontrol update nodename=localhost state=drain reason=crowdlab-test
"$crowdlab" sweep "${grid[@]}" --slurm --tasks 4 --out "$work/resume" >/dev/null
array=$(job "$work/resume" arrayJob); merge=$(job "$work/resume" mergeJob)
scancel "${array}_2"
echo "cancelled task ${array}_2: $(scontrol show job -o "${array}_2" 2>/dev/null | grep -oE "JobState=[A-Z_]+")"
scontrol update nodename=localhost state=resume
wait_jobs "$array,$merge"; ended=$?
echo "array job $array with task 2 cancelled:"
accounting "$array"
refusal=$("$crowdlab" merge "$work/resume/shards" --out "$work/resume/partial" 2>&1 >/dev/null)
echo "$refusal"
[ "$ended" -eq 0 ] && [ ! -e "$work/resume/runs.csv" ] && echo "$refusal" | grep -q "missing shard(s) 2 of 4"
check "the merge waits no longer and crowdlab merge refuses the partial set naming shard 2" $?
"$crowdlab" sweep --resume "$work/resume"
resubmitted=$?
array=$(job "$work/resume" arrayJob); merge=$(job "$work/resume" mergeJob)
wait_jobs "$array,$merge"
echo "resumed: array job $array (task 2 only), merge job $merge:"
accounting "$array"
only2=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['submissions'][-1]['tasks'])" "$work/resume/slurm/sweep.json")
if [ "$resubmitted" -eq 0 ] && [ "$only2" = "[2]" ] && cmp -s "$work/local/runs.csv" "$work/resume/runs.csv"; then echo identical; same=0; else echo differs; same=1; fi
check "crowdlab sweep --resume re-runs task 2 alone and the merge is byte-identical" $same

stop
left=0
for f in "$root/run/slurmd.pid" "$root/run/slurmctld.pid" "$root/munge/munged.pid"; do
  [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && left=1
done
check "every daemon started is stopped" $left
finish
[ "$failures" -eq 0 ]
