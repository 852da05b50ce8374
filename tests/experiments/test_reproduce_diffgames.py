"""The reproductions on differentiable games end to end (``sos``, ``cola``,
``lola-higher-order``), at smoke size: the pipeline, its files and the settings it records.
Their results are tested in ``test_paper_sos.py`` and ``test_hola_cola.py``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lola_games.experiments.cola import PAPER_CONSISTENCY
from lola_games.experiments.reproduce import EXPERIMENTS, reproduce


def test_experiments_are_registered():
    assert {"sos", "cola", "lola-higher-order"} <= set(EXPERIMENTS)


def test_sos_smoke_records_the_notebook_settings(tmp_path):
    result = reproduce("sos", tmp_path, size="smoke", formats=("png",))
    assert len(result.runs) == 4 + 8 + 8 + 8
    lola = result.runs["tandem_lola"].config
    assert lola["game_spec"]["name"] == "tandem" and lola["game_spec"]["init_std"] == 0.1
    assert lola["agents"][0]["hparams"] == {"lr": 0.1, "eta": 0.1, "stop_gradient": False,
                                            "optimizer": "sgd"}
    assert result.runs["ipd_sos"].config["agents"][0]["hparams"]["alpha"] == 1.0
    for stem in ("sos_tandem", "sos_matching_pennies", "sos_ipd", "sos_hamiltonian"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000


def test_cola_smoke_trains_measures_and_plays(tmp_path):
    result = reproduce("cola", tmp_path, size="smoke", formats=("png",))
    data = json.loads((tmp_path / "consistency.json").read_text())
    assert set(data["games"]) == {"tandem", "mp", "ipd"}
    tandem = data["games"]["tandem"]["rates"]
    assert list(tandem) == ["1", "0.5", "0.3", "0.1", "0.01"]
    assert tandem["1"]["LOLA"]["mean"] == pytest.approx(128.0)  # exact for any points
    assert tandem["1"]["HOLA2"]["mean"] == pytest.approx(512.0)
    assert set(tandem["1"]) >= {"LOLA", "HOLA2", "HOLA6", "COLA", "cosine"}
    assert set(data["games"]["mp"]["rates"]["10"]) >= {"HOLA3", "HOLA4"}
    md = (tmp_path / "consistency.md").read_text()
    assert "| 1 | 128 (" in md and "| 131072 |" not in md and "1.31e+05" in md
    assert PAPER_CONSISTENCY["ipd"][1.0]["COLA"] == 0.65
    cola = result.runs["ipd_1_cola"].config["agents"][0]["hparams"]
    assert cola["networks"] == str(tmp_path / "networks" / "ipd_1_0.pt")
    assert result.runs["ipd_1_cola"].config["game_spec"]["init_std"] == 0.1
    assert (tmp_path / "cola_consistency_training.png").stat().st_size > 1000

    # kept networks are reused; the table and figures redraw from the run directories
    stamp = (tmp_path / "networks" / "tandem_1.pt").stat().st_mtime_ns
    again = reproduce("cola", tmp_path, size="smoke", resume=True, formats=("png",))
    assert (tmp_path / "networks" / "tandem_1.pt").stat().st_mtime_ns == stamp
    assert again.table == result.table
    redrawn = reproduce("cola", tmp_path, size="smoke", plot_only=True, formats=("png",))
    assert redrawn.table == result.table


def test_lola_higher_order_smoke(tmp_path):
    result = reproduce("lola-higher-order", tmp_path, size="smoke", formats=("png",))
    assert len(result.runs) == 6 + 2
    hola = result.runs["hola2_lola"].config["agents"]
    assert hola[0] == {"name": "hola", "hparams": {"lr": 0.5, "eta": 0.5, "order": 2,
                                                   "taylor": True, "optimizer": "sgd"}}
    assert hola[1] == {"name": "lola", "hparams": {"lr": 0.5, "eta": 0.5, "stop_gradient": True,
                                                   "optimizer": "sgd"}}
    assert result.runs["lola_nl_eta1"].config["agents"][0]["hparams"]["eta"] == 1.0
    table = (tmp_path / "paper_comparison.md").read_text()
    assert "-1.28 vs -1.54" in table and "-1.14 vs -1.17" in table
    assert table.count("-1.28 vs -1.54") == 2  # delta 0.5 with eta 0.5 and with eta 1


def test_spread_of_sample_means():
    from lola_games.experiments.cola_consistency import sample_mean_spread
    from lola_games.experiments.lola_higher_order import group_means

    c = torch.arange(10.0).repeat_interleave(100)  # ten groups of 100 with means 0, ..., 9
    assert sample_mean_spread(c) == pytest.approx([0.9, 8.1])
    assert sample_mean_spread(c[:150]) is None
    np.testing.assert_array_equal(group_means(np.arange(120.0), 50), [24.5, 74.5])
    assert group_means(np.arange(60.0), 50) is None


def test_gap_checks_script_runs_and_rejects_bad_sizes(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "diffgames_gaps.py"
    spec = importlib.util.spec_from_file_location("diffgames_gaps", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["higher-order-eta", "--seeds", "4", "--etas", "0.5"]) == 0
    assert module.main(["ipd-consistency", "--points", "200", "--regions", "1",
                        "--gammas", "0.96"]) == 0
    out = capsys.readouterr().out
    assert "(paper -1.28 / -1.54)" in out and "(paper -1.14 / -1.17)" in out
    assert "region 1 look-ahead 1: LOLA" in out and "(paper 381)" in out
    with pytest.raises(SystemExit):
        module.main(["ipd-consistency", "--points", "0"])
