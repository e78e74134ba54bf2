"""The speed benchmark scripts run end to end on tiny settings and write their files."""

import json

import speed_conv


def test_speed_conv_writes_json_and_table(tmp_path):
    assert speed_conv.main(["--models", "conv-small-gamma", "--updates", "2",
                            "--batch-size", "10", "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "speed-conv.json").read_text())
    (row,) = result["results"]
    assert row["model"] == "conv-small-gamma" and row["ms_per_update"] > 0
    # 30 images through Conv-Small forward (20 corrupted, 10 clean), about 3x for backward.
    assert 0.5 < row["gflop_per_update"] < 3
    assert "| conv-small-gamma | 1×28×28 |" in (tmp_path / "speed-conv.md").read_text()
