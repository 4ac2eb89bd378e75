"""Which members a pretrained LLM's populations have, which files they are, and the
params each member's job gets (pieflow.llm.spec): no model, no files."""

from __future__ import annotations

from pieflow.config import compression_kinds, import_specs, with_grid_defaults
from pieflow.llm import spec


def config(num_fewshot: int = 3, methods=("int8", "wanda"), draws: int = 5,
           **llm) -> dict:
    return with_grid_defaults({
        "splits": ["test"],
        "llm_tasks": {"sums": {"task": "pieflow_sums", "include_path": "config/llm",
                               "num_fewshot": num_fewshot, "limit": 20}},
        "llms": {"smol": {"pretrained": "some/hub-model", "tasks": ["sums"],
                          "draws": draws, "methods": list(methods), "sparsities": [30, 50],
                          **llm}},
    })


def population_files(cfg: dict) -> dict[tuple[str, int], list[tuple[str, int]]]:
    (entry,) = import_specs(cfg)
    return {(p.method, p.sparsity): [(f.path, f.seed) for f in p.files]
            for p in entry.populations}


def test_few_shot_members_are_draws_and_twins_share_seeds():
    files = population_files(config())
    assert set(files) == {("dense", 0), ("int8", 0), ("wanda", 30), ("wanda", 50)}
    for (method, sparsity), members in files.items():
        assert [seed for _, seed in members] == list(range(5))
        assert [path for path, _ in members] == [
            f"results/sums/smol/{method}/{sparsity}/seeds/{i}/samples.jsonl"
            for i in range(5)]


def test_zero_shot_uncalibrated_has_one_member():
    files = population_files(config(num_fewshot=0, methods=("int8", "mag-pt-2of4")))
    assert all(len(members) == 1 for members in files.values())
    assert len(spec.member_files(config(num_fewshot=0, methods=("int8",)))) == 2


def test_zero_shot_with_a_calibrated_method_draws_calibration_only():
    """The dense model and int8 have nothing to draw: one evaluation (seed 0) listed
    under every member seed; Wanda's members are its calibration draws."""
    files = population_files(config(num_fewshot=0))
    assert files[("dense", 0)] == [("results/sums/smol/dense/0/seeds/0/samples.jsonl", i)
                                   for i in range(5)]
    assert len({path for path, _ in files[("int8", 0)]}) == 1
    assert len({path for path, _ in files[("wanda", 50)]}) == 5
    distinct = spec.member_files(config(num_fewshot=0))
    assert len(distinct) == 1 + 1 + 5 + 5
    assert spec.null_meaning(config(num_fewshot=0)) == {"smol": spec.NULL_CALIBRATION}
    assert spec.null_meaning(config()) == {"smol": spec.NULL_FEWSHOT}


def test_each_member_gets_only_the_params_it_reads():
    cfg = config(calibration={"sequences": 8, "length": 64},
                 checkpoints={"awq": "org/smol-awq"})
    dense = spec.member_params(cfg, "sums", "smol", "dense")
    int8 = spec.member_params(cfg, "sums", "smol", "int8")
    wanda = spec.member_params(cfg, "sums", "smol", "wanda")
    awq = spec.member_params(cfg, "sums", "smol", "awq")
    assert dense["method"] is None and dense["calibration"] is None
    assert int8["method"]["quantize"]["bits"] == 8 and int8["calibration"] is None
    assert wanda["calibration"] == {"text_file": None, "sequences": 8, "length": 64}
    assert awq["checkpoint"] == {"pretrained": "org/smol-awq", "revision": None}
    assert awq["method"] is None
    # a calibration change reaches the calibrated members only
    other = config(calibration={"sequences": 16, "length": 64},
                   checkpoints={"awq": "org/smol-awq"})
    assert spec.member_params(other, "sums", "smol", "int8") == int8
    assert spec.member_params(other, "sums", "smol", "wanda") != wanda
    kinds = compression_kinds(cfg)
    assert kinds["awq"] == "compressed elsewhere" and kinds["wanda"] == "post-training pruning"


def test_gguf_members_read_the_converted_folder_and_exports_are_listed():
    cfg = config(gguf_file="model.gguf", export=True, checkpoints={"awq": "org/awq"})
    inputs = spec.member_inputs(cfg, "sums", "smol", "wanda")
    assert inputs["converted"] == "results/llm_checkpoints/smol"
    assert "converted" not in spec.member_inputs(cfg, "sums", "smol", "awq")
    exports = spec.export_dirs(cfg)
    assert len(exports) == 3 * 5  # int8, wanda 30 and 50; not dense, not the checkpoint
    assert all(path.endswith("/export") and "/dense/" not in path and "/awq/" not in path
               for path in exports)
