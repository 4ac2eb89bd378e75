"""The default run's model-FLOP utilisation: useful model FLOPs / (wall time × peak).

Prints, in one run (issue #13):

1. this machine's matmul peak: the median GFLOP/s of square fp32 and bf16 matmuls
   (2048², all cores);
2. the default run's useful FLOPs, counted from the real ``config.yaml``: its data,
   subsampled as the workflow does, tokenised with each model's real tokenizer (real
   tokens only, no padding) and its models' matmul parameters —
   training tokens × 6 × matmul parameters + predicted tokens × 2 × parameters,
   per job the workflow runs (dense seeds, controls, every pruned cell's extra epochs,
   the validation pass after every dense and control epoch (the training curve),
   predictions of every cell and split, the EL2N predictions, calibration passes);
3. the default run's wall time: ``snakemake --cores 2`` on that config in a temporary
   directory (or ``--wall SECONDS`` from a run measured elsewhere);
4. the end-to-end MFU against the fp32 and the bf16 peak.

Matmul parameters: weights applied to every token (an encoder's Linear layers, a
BiLSTM's LSTM matrices) count once per token; weights applied once per text (pooler,
MLP, classifier head) once per text. Attention's own score/value products (4·d·L² per
layer and text) and everything that is not a matmul are left out, as is GraNd (off in
the default). Also printed: the share of padding in training batches, shuffled at
random vs length-bucketed (what bucketing saves).

    .venv/bin/python bench/bench_default.py                  # runs the default (~10 min)
    .venv/bin/python bench/bench_default.py --wall 612       # count FLOPs, use a wall time
    .venv/bin/python bench/bench_default.py --quick          # smoke test, seconds
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from torch import nn

REPO = Path(__file__).resolve().parents[1]


def matmul_peak(dtype: torch.dtype, size: int, repeats: int) -> float:
    """Median GFLOP/s of ``size``² × ``size``² matmuls in ``dtype``."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b  # warm-up (oneDNN builds its kernel on the first call)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


@dataclass
class MatmulParams:
    per_token: int
    per_text: int


def matmul_params(model: nn.Module) -> MatmulParams:
    """Weights multiplied with every token vs once per text (see the module docstring)."""
    per_token = per_text = 0
    head = getattr(model, "head_prefix", "")
    for name, module in model.named_modules():
        if isinstance(module, nn.LSTM):
            per_token += sum(p.numel() for n, p in module.named_parameters()
                             if n.startswith("weight_"))
        elif isinstance(module, nn.Linear):
            once = (name.startswith(head.rstrip(".")) or "pooler" in name
                    or name.startswith("mlp"))
            if once:
                per_text += module.weight.numel()
            else:
                per_token += module.weight.numel()
    return MatmulParams(per_token, per_text)


@dataclass
class Split:
    tokens: int
    texts: int

    def flops(self, params: MatmulParams, per_param: int) -> float:
        return per_param * (self.tokens * params.per_token + self.texts * params.per_text)


def padding_shares(lengths: torch.Tensor, batch_size: int) -> tuple[float, float]:
    """Share of padding in one epoch's batches: random order vs length-bucketed."""
    from pieflow.models.encoding import bucketed_batches, padded_tokens
    from pieflow.seeding import generator

    real = int(lengths.sum())
    random = list(torch.randperm(len(lengths), generator=generator(0, "order", 0))
                  .split(batch_size))
    bucketed = bucketed_batches(lengths, batch_size, generator(0, "order", 0))
    return (1 - real / padded_tokens(lengths, random),
            1 - real / padded_tokens(lengths, bucketed))


def useful_flops(config: dict) -> tuple[float, list[str]]:
    """FLOPs of the model work the config asks for, and one line per model saying how."""
    from pieflow import config as pieflow_config
    from pieflow.data.prepare import load_dataset_from_config
    from pieflow.labels import label_kind_of
    from pieflow.models.classifiers import build_model, load_tokenizer
    from pieflow.models.encoding import encode
    from pieflow.models.loading import adds_special_tokens
    from pieflow.prune.methods import MethodSpec

    seeds = len(pieflow_config.seeds(config))
    pruned = pieflow_config.pruned_cells(config)
    controls = pieflow_config.control_cells(config)
    total, lines = 0.0, []
    for dataset, dataset_spec in config["datasets"].items():
        data = load_dataset_from_config(dataset, dataset_spec)
        for model in config["models"]:
            spec = pieflow_config.model_spec(config, dataset, model)
            tokenizer = load_tokenizer(spec)
            splits = {}
            for name, frame in data.splits.items():
                encoded = encode(tokenizer, frame, spec["max_length"],
                                 label_kind_of(frame), len(data.classes),
                                 special_tokens=adds_special_tokens(spec))
                splits[name] = Split(int(encoded.lengths().sum()), len(encoded))
                if name == "train":
                    random_pad, bucketed_pad = padding_shares(encoded.lengths(),
                                                              spec["batch_size"])
            params = matmul_params(build_model(spec, len(data.classes), 0))
            train = splits["train"]
            epochs = seeds * spec["epochs"]  # dense seeds
            calibration = 0.0
            cells = [c for c in pruned if c.dataset == dataset and c.model == model]
            for cell in cells:
                method = MethodSpec(**pieflow_config.method_params(config, cell.method))
                if method.schedule == "iterative":
                    epochs += seeds * method.prunes * spec["epochs"]
                    if method.after_prune == "rewind":
                        epochs += seeds * method.rewind_epoch
                elif method.schedule == "at_init":
                    epochs += seeds * spec["epochs"]
                else:
                    epochs += seeds * method.recover_epochs
                if method.needs_calibration:
                    share = min(1.0, method.calibration_examples / train.texts)
                    calibration += seeds * share * train.flops(params, 2)
            n_controls = sum(1 for c in controls if c.dataset == dataset and c.model == model)
            control_epochs = (seeds * pieflow_config.control_prunes(config, model)
                              * spec["epochs"] if n_controls else 0)
            epochs += control_epochs
            training = epochs * train.flops(params, 6)
            # the training curve: dense and control runs score the validation split after
            # every epoch they train
            curve_epochs = seeds * spec["epochs"] + control_epochs
            curve = curve_epochs * splits["validation"].flops(params, 2)
            populations = 1 + len(cells) + n_controls
            predicted = seeds * populations * sum(splits[s].flops(params, 2)
                                                  for s in config["splits"])
            el2n = seeds * sum(splits[s].flops(params, 2) for s in config["splits"])
            flops = training + curve + predicted + el2n + calibration
            total += flops
            lines.append(
                f"  {dataset}/{model}: {params.per_token / 1e6:.2f}M matmul params per token"
                f" + {params.per_text / 1e6:.2f}M per text; train split {train.texts} texts,"
                f" {train.tokens} tokens ({train.tokens / train.texts:.1f}/text);"
                f" {epochs} training epochs in all ({training / 1e12:.2f} TFLOP),"
                f" {populations} populations x {seeds} seeds predicted on"
                f" {'+'.join(config['splits'])} ({(predicted + el2n) / 1e12:.2f} TFLOP"
                f" with EL2N), validation after each of {curve_epochs} epochs"
                f" ({curve / 1e12:.2f} TFLOP), calibration {calibration / 1e12:.3f} TFLOP;"
                f" padding in training batches: {random_pad:.0%} shuffled,"
                f" {bucketed_pad:.0%} length-bucketed")
    return total, lines


def run_default(config_path: Path, cores: int) -> tuple[float, Path]:
    """Wall seconds of ``snakemake --cores N`` on the config, in a fresh directory."""
    workdir = Path(tempfile.mkdtemp(prefix="pieflow-default-"))
    shutil.copy(config_path, workdir / "config.yaml")
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--cores", str(cores), "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"the default run failed in {workdir}:\n{done.stderr[-3000:]}")
    return wall, workdir


def job_seconds(workdir: Path) -> tuple[int, float]:
    """Jobs run and the sum of their wall seconds (Snakemake's ``benchmark:`` files)."""
    files = list((workdir / "results" / "benchmarks").rglob("*.tsv"))
    seconds = sum(float(f.read_text().splitlines()[1].split("\t")[0]) for f in files)
    return len(files), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--wall", type=float, help="wall seconds of a measured default run "
                        "(skips running it)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--size", type=int, default=2048, help="matmul size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, help="torch threads for the matmul peak "
                        "(default: all cores)")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory")
    parser.add_argument("--quick", action="store_true",
                        help="small matmuls and no workflow run (smoke test)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.size, args.repeats = 256, 2
    started = time.perf_counter()

    from pieflow import precision

    fp32 = matmul_peak(torch.float32, args.size, args.repeats)
    bf16 = matmul_peak(torch.bfloat16, args.size, args.repeats)
    used = precision.resolve("cuda" if torch.cuda.is_available() else "cpu", "auto")
    print(f"matmul peak ({args.size}², {torch.get_num_threads()} threads, median of "
          f"{args.repeats}): fp32 {fp32:.0f} GFLOP/s, bf16 {bf16:.0f} GFLOP/s "
          f"(precision auto here: {used})")

    config = yaml.safe_load(args.config.read_text())
    flops, lines = useful_flops(config)
    print(f"useful model FLOPs of {args.config.name}: {flops / 1e12:.2f} TFLOP")
    print("\n".join(lines))

    wall, workdir = args.wall, None
    if wall is None and not args.quick:
        wall, workdir = run_default(args.config, args.cores)
    if wall is None:
        print("wall time: not measured (--quick without --wall)")
        print("MFU: n/a")
    else:
        how = f"snakemake --cores {args.cores} in {workdir}" if workdir else "--wall"
        print(f"wall time of the run: {wall:.0f} s ({how})")
        if workdir:
            jobs, seconds = job_seconds(workdir)
            print(f"jobs: {jobs}, {seconds:.0f} job-seconds in all ({seconds / jobs:.1f} s "
                  f"per job; {seconds / wall:.2f} jobs running on average)")
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        achieved = flops / wall / 1e9
        print(f"achieved: {achieved:.1f} GFLOP/s of useful model work")
        print(f"MFU: {achieved / fp32:.1%} of the fp32 peak, {achieved / bf16:.1%} of the "
              f"bf16 peak (target: 50 %)")
    print(f"bench ran {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
