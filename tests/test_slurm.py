"""The workflow on a real single-node SLURM, through profiles/ci-slurm.

tests/slurm/start_slurm.sh brings up munged, slurmctld and slurmd on localhost (after
tests/slurm/install_slurm.sh, which `make test` runs); the tests skip when SLURM is
not installed or cannot start. One run of the tiny workflow through the slurm
executor (with seeds bundled into group jobs, as on a real cluster) backs all tests:
every job goes through sbatch, a transient failure is retried per the profile, a
persistent one is logged and resumed after the fix without redoing finished cells,
and a config change reruns only the jobs it affects. See docs/slurm.md.
"""

from __future__ import annotations

import copy
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from workflow_helpers import planned_jobs, slurm_env, tiny_config, write_config

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "tests" / "slurm"
WRAPPER = SCRIPTS / "Snakefile"  # the real Snakefile plus two rules that fail on purpose
CI_PROFILE = REPO / "profiles" / "ci-slurm"
CLUSTER_PROFILE = REPO / "profiles" / "slurm"

STATE = Path(os.environ.get("PIEFLOW_SLURM_STATE", "/tmp/pieflow-slurm"))
RUN_TIMEOUT = 1500  # seconds; a misconfigured SLURM run hangs instead of failing
LOCK_TIMEOUT = 1800  # another test session may be using the one local cluster

FAIL_ONCE = "results/slurm_check/tweets/fail_once.txt"
FAIL_UNTIL_FIXED = "results/slurm_check/tweets/fail_until_fixed.txt"
TARGETS = ("all", FAIL_ONCE, FAIL_UNTIL_FIXED)
LOCAL_RULES = {"all"}

SUBMITTED = re.compile(
    r"^Job (?P<job>\S+) has been submitted with SLURM jobid (?P<slurm>\d+) \(log: (?P<log>.+)\)\.$")
SLURMCTLD_SUBMIT = re.compile(r"_slurm_rpc_submit_batch_job: JobId=(\d+)")
SLURMCTLD_EXIT = re.compile(r"_job_complete: JobId=(\d+) WEXITSTATUS (\d+)")


def snakemake_slurm(workdir: Path, *args: str, snakefile: Path = WRAPPER,
                    timeout: int = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """Snakemake through the ci-slurm profile, killed (SIGKILL) after `timeout` s."""
    command = ["timeout", "-s", "KILL", str(timeout), sys.executable, "-m", "snakemake",
               "--snakefile", str(snakefile), "--directory", str(workdir),
               "--profile", str(CI_PROFILE), "--cores", "2", *args]
    # From the repository, so that the workflow profile profiles/default applies as
    # it does for users (it is found relative to the working directory).
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                            timeout=timeout + 60, env=slurm_env())
    if result.returncode in (124, 137, -9):
        subprocess.run(["scancel", "--quiet", *slurm_ids(result.stdout + result.stderr)],
                       capture_output=True, timeout=30)
        pytest.fail(f"snakemake ran past {timeout} s:\n{result.stderr[-5000:]}")
    return result


def slurm_ids(log: str) -> list[str]:
    return [m["slurm"] for line in log.splitlines() if (m := SUBMITTED.match(line.strip()))]


def dry_run_jobs(workdir: Path, *args: str) -> Counter:
    """Rule → number of jobs a dry run with the ci-slurm profile plans."""
    result = snakemake_slurm(workdir, "--dry-run", *args, timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    return Counter(m.group(1) for line in (result.stdout + result.stderr).splitlines()
                   if (m := re.match(r"^(?:local)?rule (\w+):", line.strip())))


@dataclass
class Submission:
    job: str  # Snakemake job id, or a group job's id
    slurm_id: str
    log: Path


@dataclass
class Run:
    workdir: Path
    config: dict
    planned: Counter
    result: subprocess.CompletedProcess
    controller_log: str  # what slurmctld logged during the run
    seconds: float

    @property
    def log(self) -> str:
        return self.result.stdout + self.result.stderr

    @property
    def submissions(self) -> list[Submission]:
        return [Submission(m["job"], m["slurm"], Path(m["log"]))
                for line in self.log.splitlines() if (m := SUBMITTED.match(line.strip()))]

    def submissions_of(self, rule: str) -> list[Submission]:
        return [s for s in self.submissions if f"/rule_{rule}/" in str(s.log)]


def parse_units(log: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str]]]]:
    """What Snakemake scheduled, as it printed it: {jobid: rule} of the stand-alone
    jobs and [(group name, {jobid: rule})] of the group jobs (one SLURM job each).
    Local jobs (`localrule`) are left out."""
    single: dict[str, str] = {}
    groups: list[tuple[str, dict[str, str]]] = []
    rule = None
    in_group = False
    for line in log.splitlines():
        if match := re.search(r"Group job (\w+) \(jobs", line):
            groups.append((match.group(1), {}))
            in_group = True
        elif match := re.match(r"^(\s*)(local)?rule (\w+):$", line):
            in_group = in_group and bool(match.group(1))
            rule = None if match.group(2) else match.group(3)
        elif rule and (match := re.match(r"^\s+jobid: (\d+)$", line)):
            (groups[-1][1] if in_group else single)[match.group(1)] = rule
            rule = None
    return single, groups


@pytest.fixture(scope="module")
def slurm_cluster():
    """The local test cluster, started for this module and stopped (by PID) after it."""
    if shutil.which("sbatch") is None:
        pytest.skip("SLURM is not installed (no sbatch on PATH); "
                    "`bash tests/slurm/install_slurm.sh` installs it (root, Debian)")
    STATE.mkdir(parents=True, exist_ok=True)
    with open(STATE.parent / f"{STATE.name}.lock", "w") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.skip("the local SLURM test cluster stayed busy (another session)")
                time.sleep(5)
        start = subprocess.run(["timeout", "-s", "KILL", "120", "bash",
                                str(SCRIPTS / "start_slurm.sh")],
                               capture_output=True, text=True, timeout=180)
        if start.returncode != 0:
            pytest.skip(f"the local SLURM daemons could not start: {start.stderr.strip()}")
        try:
            yield STATE
        finally:
            if start.stdout.strip() == "started":  # leave a cluster we did not start
                subprocess.run(["timeout", "-s", "KILL", "60", "bash",
                                str(SCRIPTS / "stop_slurm.sh")],
                               capture_output=True, timeout=90)


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory, tiny_bert_dir) -> Run:
    """The tiny workflow (2 models, imp at 50 %, 2 seeds) plus the two failing rules,
    through SLURM, with --keep-going so the persistent failure stops nothing else."""
    workdir = tmp_path_factory.mktemp("slurm-workflow")
    config = tiny_config(tiny_bert_dir)
    config.update(methods=["imp"], seeds=2)  # smaller than the local tests: 2 cores
    write_config(workdir, config)
    planned = dry_run_jobs(workdir, *TARGETS)
    controller_log = slurm_cluster / "slurmctld.log"
    offset = controller_log.stat().st_size
    started = time.monotonic()
    result = snakemake_slurm(workdir, "--keep-going", *TARGETS)
    seconds = time.monotonic() - started
    with open(controller_log, errors="replace") as log:
        log.seek(offset)
        controller = log.read()
    return Run(workdir, config, planned, result, controller, seconds)


def test_the_workflow_completes_through_slurm(slurm_run):
    run = slurm_run
    print(f"SLURM run: {run.seconds:.0f} s, {len(run.submissions)} sbatch submissions")
    # Only the job that fails on purpose on every attempt failed (--keep-going).
    assert run.result.returncode != 0
    errors = re.findall(r"^Error in (?:rule|group) (\w+):", run.log, re.MULTILINE)
    assert Counter(errors) == {"fail_once": 1, "fail_until_fixed": 2}, run.log[-5000:]
    for path in ("results/analysis/accuracy.parquet", "results/analysis/pies.parquet",
                 "results/tweets/bilstm/imp/50/pies.parquet",
                 "results/tweets/tinybert/influence.parquet"):
        assert (run.workdir / path).stat().st_size > 0, path


def test_every_job_went_through_sbatch(slurm_run):
    run = slurm_run
    single, groups = parse_units(run.log)
    # Every planned job ran (fail_until_fixed never finished) ...
    finished = Counter(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", run.log))
    assert finished + Counter({"fail_until_fixed": 1}) == run.planned
    # ... and all but the local target rule `all` as part of a SLURM job: alone, or
    # bundled in a group job. Seeds were bundled: the 4 train_dense jobs into one
    # SLURM job, the 4 prune_model jobs into another, the 2 diff_cell jobs into a third.
    remote = Counter(single.values())
    for _, members in groups:
        remote.update(members.values())
    assert remote == run.planned - Counter(LOCAL_RULES)
    # Rules the profile groups ran only in group jobs, each group job holding jobs of
    # its group's rules only. Seeds were bundled: the 4 train_dense jobs (2 models x
    # 2 seeds) in one SLURM job, the 4 prune_model jobs and the 4 train_control jobs (the
    # control of imp) in another.
    group_of = yaml.safe_load((CI_PROFILE / "config.yaml").read_text())["groups"]
    assert set(group_of).isdisjoint(single.values())
    for name, members in groups:
        assert {group_of[rule] for rule in members.values()} == {name}
    sizes = Counter()
    for name, members in groups:
        sizes[name] = max(sizes[name], len(members))
    assert sizes["dense_seeds"] == 4 and sizes["prune_seeds"] == 8
    # One sbatch per stand-alone job and per group job, plus one per retry.
    submitted = Counter(s.job for s in run.submissions)
    retried = {job for job, rule in single.items() if rule.startswith("fail_")}
    assert {job: n for job, n in submitted.items() if job.isdigit()} == {
        job: 2 if job in retried else 1 for job in single}
    group_logs = [s.log.relative_to(run.workdir).parts[2] for s in run.submissions
                  if not s.job.isdigit()]
    names = Counter(name for name, _ in groups)
    assert len(group_logs) == names.total()
    assert Counter(next(n for n in names if log.startswith(f"group_{n}_"))
                   for log in group_logs) == names
    # The controller saw exactly these submissions, ran each, and SLURM wrote each
    # job's log where the plugin said (.snakemake/slurm_logs/, kept by the profile).
    slurm_ids = [s.slurm_id for s in run.submissions]
    assert len(set(slurm_ids)) == len(slurm_ids)
    assert sorted(SLURMCTLD_SUBMIT.findall(run.controller_log), key=int) == sorted(
        slurm_ids, key=int)
    exit_codes = dict(SLURMCTLD_EXIT.findall(run.controller_log))
    failed = {s.slurm_id for s in run.submissions_of("fail_until_fixed")}
    failed.add(run.submissions_of("fail_once")[0].slurm_id)
    for submission in run.submissions:
        expected = "1" if submission.slurm_id in failed else "0"
        assert exit_codes[submission.slurm_id] == expected, submission
        assert submission.log.is_file(), submission.log
        assert submission.log.is_relative_to(run.workdir / ".snakemake" / "slurm_logs")


def test_a_transient_failure_is_retried_per_profile(slurm_run):
    run = slurm_run
    first, retry = run.submissions_of("fail_once")  # retries: 1 in profiles/ci-slurm
    assert first.job == retry.job and first.slurm_id != retry.slurm_id
    assert f"Trying to restart job {first.job}." in run.log
    # The failed attempt's SLURM log is kept and tells what happened; so does the
    # rule's own log, which the successful retry then overwrote.
    assert "failing on purpose" in first.log.read_text()
    assert (run.workdir / FAIL_ONCE).read_text().strip() == "ok"
    assert (run.workdir / "results/logs/slurm_check/tweets/fail_once.log").read_text(
    ).strip() == "fail_once: succeeded on retry"


def test_a_persistent_failure_is_logged_and_resumed_after_the_fix(slurm_run):
    run = slurm_run
    attempts = run.submissions_of("fail_until_fixed")
    assert len(attempts) == 2  # the first attempt and one retry
    rule_log = run.workdir / "results/logs/slurm_check/tweets/fail_until_fixed.log"
    assert "failing on purpose" in rule_log.read_text()
    # The error report names both logs: the rule's log: and the SLURM job's log.
    error = run.log[run.log.rindex("Error in rule fail_until_fixed:"):]
    assert f"{rule_log.relative_to(run.workdir)}, {attempts[-1].log}" in error
    assert not (run.workdir / FAIL_UNTIL_FIXED).exists()

    results = run.workdir / "results"
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*")
              if p.is_file() and "slurm_check" not in p.parts}
    (results / "slurm_check" / "fixed").touch()  # "fix the bug", rerun the same command
    rerun = snakemake_slurm(run.workdir, "--keep-going", *TARGETS)
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    resubmitted = slurm_ids(rerun.stdout + rerun.stderr)
    assert len(resubmitted) == 1
    reran = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", rerun.stderr))
    assert reran - LOCAL_RULES == {"fail_until_fixed"}
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before  # no finished cell was redone or touched
    assert (run.workdir / FAIL_UNTIL_FIXED).read_text().strip() == "ok"
    assert dry_run_jobs(run.workdir, *TARGETS) == Counter()


@pytest.fixture
def bilstm_lr_changed(slurm_run):
    changed = copy.deepcopy(slurm_run.config)
    changed["models"]["bilstm"]["lr"] = 1e-3
    write_config(slurm_run.workdir, changed)
    yield slurm_run.workdir
    write_config(slurm_run.workdir, slurm_run.config)


def test_a_changed_learning_rate_reruns_only_that_model(slurm_run, bilstm_lr_changed):
    jobs = planned_jobs(bilstm_lr_changed, "--profile", str(CI_PROFILE))
    assert len(jobs["train_dense"]) == 2  # the bilstm's two seeds
    for rule in ("train_dense", "prune_model", "predict_cell", "diff_cell",
                 "score_influence"):
        assert jobs.get(rule), rule
        assert all(job["model"] == "bilstm" for job in jobs[rule]), rule
    assert "prepare_dataset" not in jobs


def test_mtime_trigger_keeps_checkpoints_after_a_param_change(slurm_run, bilstm_lr_changed):
    jobs = planned_jobs(bilstm_lr_changed, "--profile", str(CI_PROFILE),
                        "--rerun-triggers", "mtime")
    assert jobs == {}


def test_every_rule_has_cluster_resources():
    """profiles/default replaces default-resources as a whole (see docs/slurm.md), so
    both SLURM profiles must name every rule that runs as a SLURM job."""
    result = subprocess.run([sys.executable, "-m", "snakemake", "--list-rules"],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rules = set(result.stdout.split()) - LOCAL_RULES
    assert "prune_model" in rules
    for profile in (CLUSTER_PROFILE, CI_PROFILE):
        settings = yaml.safe_load((profile / "config.yaml").read_text())
        assert rules <= set(settings["set-resources"]), profile
        assert set(settings["groups"]) <= rules, profile


def test_cluster_profile_bundles_gpu_jobs(tmp_path, tiny_bert_dir):
    """A dry run with profiles/slurm: GPU resources for the training and inference
    rules, and prune_model jobs bundled into group jobs of up to 10."""
    config = tiny_config(tiny_bert_dir)
    config["seeds"] = 12  # 2 models x 2 methods x 12 seeds = 48 prune_model jobs
    write_config(tmp_path, config)
    result = subprocess.run(
        ["timeout", "-s", "KILL", "600", sys.executable, "-m", "snakemake", "--dry-run",
         "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
         "--profile", str(CLUSTER_PROFILE)],
        capture_output=True, text=True, cwd=REPO, timeout=660, env=slurm_env())
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    resources = {}
    for rule, line in re.findall(r"rule (\w+):\n(?:\s+\w+: .*\n)*?\s+resources: (.*)", log):
        resources[rule] = dict(item.split("=", 1) for item in line.split(", "))
    for rule in ("train_dense", "prune_model", "predict_cell", "score_influence"):
        assert resources[rule]["gpu"] == "1", rule
        assert resources[rule]["cpus_per_gpu"] == "8", rule
        assert resources[rule]["slurm_partition"] == "<your-gpu-partition>", rule
        assert resources[rule]["slurm_account"] == "<your-account>", rule
    assert resources["prune_model"]["runtime"] == "60"  # 60 * attempt, attempt 1
    assert resources["diff_cell"]["slurm_partition"] == "<your-cpu-partition>"
    assert "gpu" not in resources["diff_cell"]
    groups = re.findall(r"Group job (\w+) \(jobs", log)
    # 48 prune_model + 24 train_control jobs (the control of imp) in bundles of 10
    assert Counter(groups)["prune_seeds"] == 8
    assert Counter(groups)["dense_seeds"] == 3  # 24 jobs
